/* customer.h — the customer profile as data (SPEC 2), with no storage of
 * its own: the fields of the Redis hash "<prefix>{k}:ID:p", the view triggers
 * judge, and the lifecycle group. The daemon (on its copy in memory,
 * pcache.h, then committed) and `nudged replay` both apply events with
 * customer_apply, and build the view with the same code.
 *
 * Fields: "fs"/"ls" first/last seen (ms); "u" "1" once identified; "tz"
 * timezone; "rv" revenue; "sc" score; "g" the group last seen; "x" "1" when
 * a trigger excluded the customer; "e:NAME" = "count first last"; "t:NAME" a
 * trait as JSON; "w:ID" windowed-counter times and "l:TRIGGER" firing times
 * (space-separated ms). */
#ifndef NUDGED_CUSTOMER_H
#define NUDGED_CUSTOMER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "counter.h"
#include "message.h"
#include "trigger.h"

/* The event whose orders and revenue the profile sums (SPEC 2). */
#define CUSTOMER_ORDER_EVENT "Order Completed"

/* What one event changes in a profile, taken from the message. */
struct customer_update {
    const char *name;
    int64_t ts_ms;
    bool identified;
    bool has_revenue;
    double revenue;
    const char *tz;                  /* borrowed; NULL when absent */
    json_t *traits;                  /* owned: context.traits with an identify's traits, or
                                        a group's {"group": {"id", "traits"}}, on
                                        top (deep), NULL when neither */
    const struct counter **counters; /* borrowed: the counters this event feeds */
    size_t ncounters;
};

/* An order's revenue counts when it is below this in absolute value. */
#define CUSTOMER_REVENUE_MAX 1e15

/* Fills U from the validated message M (MSG its JSON); borrows from both
 * except U->traits, which customer_update_clear frees. */
void customer_update_init(struct customer_update *u, const struct message *m, json_t *msg);
void customer_update_clear(struct customer_update *u);

/* The stored value of a trait after NEW (JSON text) arrives over OLD (JSON
 * text or NULL): objects merge deeply (NEW wins inside them), anything else
 * is replaced. Returns a malloc'd JSON text. */
char *customer_trait_merge(const char *old, const char *new_);

/* Applies U to FIELDS (an object of field -> string): the daemon's and
 * replay's one implementation. Returns the group the customer moved into
 * (static string), or NULL when it stayed. BEFORE (NULL: not kept) gets
 * each field it touched that it did not have yet, with the value the
 * field had (null: none): what a commit compares to write only what
 * changed. */
const char *customer_apply(json_t *fields, const struct customer_update *u, int64_t now_ms, int64_t active_ms,
                           json_t *before);

/* The group the customer of FIELDS is in at NOW_MS when it changed since
 * the field "g" was last set (only time passing moves an active customer
 * to inactive), set there and noted in BEFORE (NULL: not kept); else
 * NULL. customer_apply ends with it. */
const char *customer_regroup(json_t *fields, int64_t now_ms, int64_t active_ms, json_t *before);
/* Sets field NAME of FIELDS to VALUE (NULL: removes it), noted in BEFORE
 * as customer_apply notes the fields it touches. */
void customer_set(json_t *fields, json_t *before, const char *name, const char *value);
/* Whether T's limit lets it fire at NOW_MS for the customer of FIELDS:
 * fewer than its max firings (field "l:TRIGGER") within its period. */
bool customer_limit_allows(json_t *fields, const struct trigger *t, int64_t now_ms);
/* Records a firing of T at NOW_MS for its limit and applies its score and
 * set actions (OUT, N of them), noting what it touches in BEFORE. */
void customer_fired(json_t *fields, json_t *before, const struct trigger *t, const struct action_out *out, size_t n,
                    int64_t now_ms);
/* The frequency cap ([triggers] frequency_cap): whether one more email
 * may go to the customer of FIELDS at NOW_MS, fewer than MAX in the PER_MS
 * before; if so it is counted (profile field "ce", the send times), noted
 * in BEFORE. */
bool customer_cap_take(json_t *fields, json_t *before, int64_t max, int64_t per_ms, int64_t now_ms);
/* Folds the fields FROM (an anonymous id's) into INTO (the user's), for
 * the daemon and replay: counts summed with first/last widened, first/last
 * seen widened, traits and other fields kept from INTO and filled from
 * FROM, windowed counters and limits joined, revenue and score summed;
 * the fields it touches noted in BEFORE (NULL: not kept). */
void customer_merge(json_t *into, json_t *from, json_t *before);

/* Reads an event name's stats, "count first last" (the field e:NAME), from
 * V (NULL: none); false when V is not of that form. */
bool customer_event_stats(const char *v, long long *n, long long *first, long long *last);

/* The lifecycle groups (SPEC 2), and the static name of group G (as
 * Redis returns it), or NULL when G is none of them. */
#define CUSTOMER_NGROUPS 5
extern const char *const customer_group_names[CUSTOMER_NGROUPS];
const char *customer_group_name(const char *g);

/* The lifecycle group of the customer in FIELDS at NOW_MS (static string). */
const char *customer_group(json_t *fields, int64_t now_ms, int64_t active_ms);

/* Builds the view triggers see as "customer" (a new reference): id,
 * traits, first_seen, last_seen, events, orders, revenue, last_order,
 * score, group, timezone. *STATE gets a new reference to the counters and
 * limits ({"w:..": [ms...], "l:..": [ms...]}) for eval_ctx.state. */
json_t *customer_view(const char *id, json_t *fields, int64_t now_ms, int64_t active_ms, json_t **state);

/* The time of the customer's last event of NAME (NULL: of any name) in
 * FIELDS, ms; -1 when there is none. */
int64_t customer_last_event_ms(json_t *fields, const char *name);

/* Whether NAME is a part of customer.local: hour, weekday or date. */
bool customer_local_part(const char *name);

/* Adds to VIEW "local": {"hour": 0-23, "weekday": "mon".."sun", "date":
 * "YYYY-MM-DD"}, the customer's own clock at NOW_MS for a zone OFFSET_S
 * seconds east of UTC. */
void customer_add_local(json_t *view, int64_t now_ms, int32_t offset_s);

#endif
