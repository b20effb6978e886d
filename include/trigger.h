/* trigger.h — trigger files (SPEC 3): load and validate a directory of them
 * into an immutable set, match events, render actions. Pure apart from
 * reading the files at load: no Redis, no clock, no network. */
#ifndef NUDGED_TRIGGER_H
#define NUDGED_TRIGGER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errlist.h"
#include "message.h"
#include "path.h"

struct trigger;
struct trigger_set;

enum action_kind { ACTION_WEBHOOK };

/* One action rendered for one firing; every field is owned by the struct
 * and freed by trigger_action_out_free. */
struct action_out {
    enum action_kind kind;
    char *url, *method, *body;
    json_t *headers; /* object of header name -> string */
    int64_t timeout_ms;
};

/* Loads every *.json in DIR (sorted by name). Returns the set (caller frees
 * with trigger_set_free), or NULL after adding every problem to ERRS in
 * SPEC 3's form. A directory with no triggers is a valid, empty set. */
struct trigger_set *trigger_set_load(const char *dir, struct errlist *errs);

/* Loads one file's JSON text, as if DIR held only it (tests, fuzzing). */
struct trigger_set *trigger_set_load_text(const char *name, const char *text, const char *basedir,
                                          struct errlist *errs);

/* Takes one more reference to SET (returned); trigger_set_free drops one
 * and frees the set with the last. A set starts with one reference. */
struct trigger_set *trigger_set_ref(struct trigger_set *set);
void trigger_set_free(struct trigger_set *set);
size_t trigger_set_count(const struct trigger_set *set);
const struct trigger *trigger_set_find(const struct trigger_set *set, const char *id);

/* Step one, before the profile is read: appends to OUT (up to MAX) the
 * enabled triggers whose `on` and `where` hold for MSG (only CTX->event and
 * CTX->now are read). Returns how many. */
size_t trigger_set_candidates(const struct trigger_set *set, const struct message *msg, const struct eval_ctx *ctx,
                              const struct trigger **out, size_t max);

/* Step two: true when T's `if` holds in CTX (the customer after the event). */
bool trigger_if_holds(const struct trigger *t, const struct eval_ctx *ctx);

/* Both steps: appends to OUT (up to MAX) the enabled triggers that MSG
 * fires, given CTX (the event and the customer after it). Returns how many. */
size_t trigger_set_match(const struct trigger_set *set, const struct message *msg, const struct eval_ctx *ctx,
                         const struct trigger **out, size_t max);

const char *trigger_id(const struct trigger *t);
/* {"id", "description"}: what templates see as "trigger". Borrowed. */
json_t *trigger_info(const struct trigger *t);
size_t trigger_action_count(const struct trigger *t);

/* Renders action I of T in CTX (CTX->trigger must be trigger_info(T)).
 * Returns 0, or -1 with the reason in ERR. */
int trigger_render_action(const struct trigger *t, size_t i, const struct eval_ctx *ctx, struct action_out *out,
                          char *err, size_t errlen) __attribute__((warn_unused_result));

/* The webhook signing key of action I (decoded from whsec_...), borrowed;
 * NULL when the action has no secret or is not a webhook. */
const unsigned char *trigger_webhook_secret(const struct trigger *t, size_t i, size_t *len);

void trigger_action_out_free(struct action_out *out);

#endif
