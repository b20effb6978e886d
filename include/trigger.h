/* trigger.h — trigger files (SPEC 3): load and validate a directory of them
 * into an immutable set, match events, render actions. Pure apart from
 * reading the files at load: no Redis, no clock, no network. */
#ifndef NUDGED_TRIGGER_H
#define NUDGED_TRIGGER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "email.h"
#include "errlist.h"
#include "measure.h"
#include "message.h"
#include "path.h"
#include "util.h"

struct counter;
struct measure;
struct trigger;
struct trigger_set;

enum action_kind { ACTION_WEBHOOK, ACTION_EMAIL, ACTION_SCORE, ACTION_SET };

/* One action rendered for one firing; every field is owned by the struct
 * and freed by trigger_action_out_free. Which fields are set follows KIND. */
struct action_out {
    enum action_kind kind;
    char *url, *method, *body; /* WEBHOOK */
    json_t *headers;           /* WEBHOOK: object of header name -> string */
    int64_t timeout_ms;        /* WEBHOOK */
    struct email_out email;    /* EMAIL */
    int64_t score;             /* SCORE: points to add */
    json_t *set;               /* SET: {"traits.NAME": value, "group": "excluded"} */
};

/* Limits of a trigger directory: more is an error that says so. */
#define TRIGGER_MAX 100000
#define TRIGGER_GOALS_MAX 64 /* different goals (event and where) */
#define TRIGGER_FILE_MAX (16 * 1024 * 1024)

/* A set is loaded from the texts of its files, in three steps, with no
 * I/O of its own (the daemon reads the directory: tdir.h): a new set
 * (problems are those added to ERRS from now on), each file's JSON text
 * added (NAME in messages; the files a trigger names read through FILES),
 * then finished: the set (caller frees with trigger_set_free), or NULL
 * after every problem was added to ERRS in SPEC 3's form (WHERE names
 * the whole, for problems of the whole). At most TRIGGER_MAX triggers, in
 * time linear in their number. No file is a valid, empty set. */
struct trigger_set *trigger_set_new(const struct errlist *errs);
void trigger_set_add_text(struct trigger_set *set, const char *name, const char *text, const struct util_files *files,
                          struct errlist *errs);
struct trigger_set *trigger_set_finish(struct trigger_set *set, const char *where, struct errlist *errs);

/* Adds an error for each webhook of SET whose timeout is not below
 * BELOW_MS (redis.claim_idle: a delivery in flight longer is claimed and
 * sent again). Returns how many. */
int trigger_set_check_timeouts(const struct trigger_set *set, int64_t below_ms, struct errlist *errs);

/* A set of one file's JSON text (tests, fuzzing). */
struct trigger_set *trigger_set_load_text(const char *name, const char *text, const struct util_files *files,
                                          struct errlist *errs);

/* Takes one more reference to SET (returned); trigger_set_free drops one
 * and frees the set with the last. A set starts with one reference. */
struct trigger_set *trigger_set_ref(struct trigger_set *set);
void trigger_set_free(struct trigger_set *set);
size_t trigger_set_count(const struct trigger_set *set);
const struct trigger *trigger_set_find(const struct trigger_set *set, const char *id);
/* Trigger I (0 .. trigger_set_count - 1) in file order, or NULL. */
const struct trigger *trigger_set_get(const struct trigger_set *set, size_t i);

/* True when T is transactional: its emails are neither capped nor counted
 * by [triggers] frequency_cap. */
bool trigger_transactional(const struct trigger *t);

/* T's goal and holdout (measure.h), borrowed. */
const struct measure *trigger_measure(const struct trigger *t);

/* The goals of the triggers (enabled or not: a firing from before a
 * trigger was disabled still converts) that MSG is, given CTX (the event
 * alone), as their distinct ids in OUT (LEN bytes): " ID ID ... ", the
 * form measure_check takes; "" for none. Returns how many.
 * TRIGGER_GOAL_HITS_LEN bytes hold every goal of a set. */
#define TRIGGER_GOAL_HITS_LEN (TRIGGER_GOALS_MAX * MEASURE_GOAL_ID_LEN + 2)
size_t trigger_set_goal_hits(const struct trigger_set *set, const struct message *msg, const struct eval_ctx *ctx,
                             char *out, size_t len);

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
enum action_kind trigger_action_kind(const struct trigger *t, size_t i);

/* The triggers with "on": {"date": ...}, *N of them (borrowed). */
const struct trigger *const *trigger_set_dates(const struct trigger_set *set, size_t *n);

/* Whether message MSG sets the trait that date trigger T watches (an
 * identify's traits, or any message's context.traits): the date may have
 * moved. */
bool trigger_date_touched(const struct trigger *t, json_t *msg);

/* Whether MSG sets the trait of any date trigger of SET. */
bool trigger_set_touches_dates(const struct trigger_set *set, json_t *msg);

/* When T's date in the profile FIELDS comes due first after AFTER_MS, in
 * the customer's zone as ZONE gives it (date.h); -1: no date, or past. */
int64_t trigger_date_due(const struct trigger *t, json_t *fields, const struct eval_zone *zone, int64_t after_ms);

/* The event a date firing is judged and rendered with (a new reference):
 * {"type": "date", "date": PATH, "messageId": "date:ID@DUE", "timestamp"};
 * MID gets the messageId. */
json_t *trigger_date_event(const struct trigger *t, int64_t due, char *mid, size_t midlen);

/* The enabled and disabled triggers with "on": {"silence": ...}, *N of
 * them (borrowed from SET). */
const struct trigger *const *trigger_set_silences(const struct trigger_set *set, size_t *n);

/* When message M arms T's silence (any message, or a track event of T's
 * name): the moment it comes due, M's time plus the silence; -1 when M
 * does not arm it or T is not an enabled silence trigger. */
int64_t trigger_silence_due(const struct trigger *t, const struct message *m);

/* Whether T's silence that came due at DUE still holds for the customer
 * whose profile is FIELDS: the event that armed it is still the last (of
 * T's name). A later event ended that silence and armed the next one. */
bool trigger_silence_holds(const struct trigger *t, json_t *fields, int64_t due);

/* The event a silence firing is judged and rendered with (a new
 * reference): {"type": "silence", "silence", "event" (its name, when it
 * has one), "messageId", "timestamp" (DUE)}; MID gets the messageId,
 * "silence:ID@DUE", which names that one silence of the customer. */
json_t *trigger_silence_event(const struct trigger *t, int64_t due, char *mid, size_t midlen);

/* The enabled triggers with "on": {"group": GROUP} whose `where` holds in
 * CTX (the event that caused the move, if any): the customer moved into
 * GROUP. Appends to OUT (up to MAX); returns how many. */
size_t trigger_set_moved(const struct trigger_set *set, const char *group, const struct eval_ctx *ctx,
                         const struct trigger **out, size_t max);

/* The enabled triggers with "on": {"value_tier": TIER} whose `where`
 * holds in CTX (the order that moved the customer into TIER). Appends to
 * OUT (up to MAX); returns how many. */
size_t trigger_set_tier_moved(const struct trigger_set *set, const char *tier, const struct eval_ctx *ctx,
                              const struct trigger **out, size_t max);

/* True when some trigger starts on a value tier move. */
bool trigger_set_has_tier_moves(const struct trigger_set *set);

/* True when customers must be ranked (tier.h) for SET: a trigger starts on
 * a tier move or names customer.value_tier or value_percentile. */
bool trigger_set_uses_tiers(const struct trigger_set *set);

/* True when some trigger has score or set actions (a firing then changes
 * the profile that the customer's next event is judged by), or starts on
 * a value tier move (an order moves it as of its moment). */
bool trigger_set_has_effects(const struct trigger_set *set);

/* True when some trigger starts on a group move. */
bool trigger_set_has_moves(const struct trigger_set *set);

/* The windowed counters MSG feeds (counts and unless): appends to OUT (up
 * to MAX, trigger_set_counter_count is enough) and returns how many. */
size_t trigger_set_counters_hit(const struct trigger_set *set, const struct message *msg, const struct eval_ctx *ctx,
                                const struct counter **out, size_t max);
size_t trigger_set_counter_count(const struct trigger_set *set);

/* How long T waits after its event before it acts: the longer of `delay`
 * and unless's `within`; 0 acts at once. */
int64_t trigger_wait_ms(const struct trigger *t);

/* True when MSG is itself an event that T's `unless` waits for. */
bool trigger_unless_hit(const struct trigger *t, const struct message *msg, const struct eval_ctx *ctx);

/* True when the customer (CTX->state) sent an `unless` event at or after
 * SINCE_MS (after it, when STRICT): the waiting firing is cancelled. */
bool trigger_cancelled(const struct trigger *t, const struct eval_ctx *ctx, int64_t since_ms, bool strict);

/* T's limit: at most MAX firings per PER_MS (0: ever). False: no limit. */
bool trigger_limit(const struct trigger *t, int64_t *max, int64_t *per_ms);

/* When an email of T fired at NOW_MS may be sent, for a customer whose
 * clock is OFF_S seconds ahead of UTC: NOW_MS, or the end of T's quiet
 * hours when NOW_MS falls inside them. */
int64_t trigger_quiet_until(const struct trigger *t, int64_t now_ms, int32_t off_s);

/* T's quiet hours in minutes after midnight; false when it has none. */
bool trigger_quiet_hours(const struct trigger *t, int *from_min, int *to_min);

#endif
