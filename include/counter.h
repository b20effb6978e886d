/* counter.h — windowed event counters (SPEC 3 "count" and "unless").
 *
 * A counter is (event name, `where` on that event). Every trigger that names
 * the same pair shares one counter, kept per customer as the profile field
 * "w:<12 hex digits of a hash of the pair>" = the event times (ms) of the
 * last COUNTER_KEEP matching events within the longest window asked for.
 * The id depends only on the pair, so a reload keeps the data. */
#ifndef NUDGED_COUNTER_H
#define NUDGED_COUNTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errlist.h"
#include "message.h"
#include "path.h"

/* How many event times a counter keeps per customer: a windowed count
 * counts up to this many events. */
#define COUNTER_KEEP 100
#define COUNTER_FIELD_LEN 15 /* "w:" + 12 hex + NUL */

struct cond;

struct counter {
    char field[COUNTER_FIELD_LEN];
    char *event;        /* owned */
    struct cond *where; /* owned; NULL: every such event */
    int64_t window_ms;  /* the longest window any user asks for */
};

/* The counters of one trigger set; owns them. */
struct counters {
    struct counter **c;
    size_t n;
};

/* Compiles {"event": NAME, "where": {...}, "within": DURATION} found at
 * PATH into a counter of its own (window_ms: the within), which the caller
 * frees with counter_free; NULL after reporting every problem through D.
 * The same shape serves a trigger's goal. */
struct counter *counter_compile(json_t *spec, const char *path, const struct diag *d);
void counter_free(struct counter *c);

/* Compiles {"event": NAME, "where": {...}, "within": DURATION} found at
 * PATH. Returns the counter (owned by REG, shared with every other user of
 * the same event and where) and sets *WITHIN_MS, or NULL after reporting
 * every problem through D. */
struct counter *counter_register(struct counters *reg, json_t *spec, const char *path, int64_t *within_ms,
                                 const struct diag *d);

/* The counters that MSG feeds (its name and their where hold for it). */
bool counter_hit(const struct counter *c, const struct message *msg, const struct eval_ctx *ctx);

/* How many of C's event times in CTX->state are at or after SINCE_MS
 * (after it, when STRICT). */
size_t counter_count(const struct counter *c, const struct eval_ctx *ctx, int64_t since_ms, bool strict);

void counter_registry_free(struct counters *reg);

#endif
