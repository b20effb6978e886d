/* measure.h — did a trigger work? (SPEC 3, "Measuring the effect"): its
 * goal (the event that counts as a conversion when it comes within a
 * window after a firing), its holdout (the share of customers for whom it
 * fires but sends nothing), and the customer's record of a firing that may
 * still convert. Pure: the daemon (through its fire script, which applies
 * the window these functions compute) and `nudged replay` follow the same
 * rules.
 *
 * The record is the profile field "o:TRIGGER" = "MS ARM": when the last
 * firing of TRIGGER for the customer acted (ms) and its arm, "t" treated
 * or "h" held out. One field a trigger and customer, so checking an event
 * for conversions reads one field per goal it meets, never a history. A
 * newer firing replaces the record: a conversion is credited to the
 * latest firing of a trigger before it, and each firing converts at most
 * once (the record goes when it converts). */
#ifndef NUDGED_MEASURE_H
#define NUDGED_MEASURE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "errlist.h"
#include "message.h"
#include "path.h"

struct counter;

/* A holdout share is counted in MEASURE_BUCKETS buckets: "10%" is 1,000 of
 * them, "2.5%" 250; a share has at most two decimals. */
#define MEASURE_BUCKETS 10000

#define MEASURE_FIELD_PREFIX "o:"

struct measure {
    struct counter *goal; /* owned; NULL: no goal. Its window_ms is the goal's within */
    uint32_t holdout;     /* the held-out share, in buckets (0: none) */
};

/* Loads a trigger's "goal" and "holdout" (either may be NULL) into M.
 * Returns 0, or -1 after reporting every problem through D. */
int measure_load(struct measure *m, json_t *goal, json_t *holdout, const struct diag *d);
void measure_clear(struct measure *m);

/* "10%", "2.5%", "0%" ... "100%" as buckets; -1 when S is not such a share. */
int measure_parse_share(const char *s, uint32_t *buckets) __attribute__((warn_unused_result));

/* True when M has a goal or a holdout: the trigger's firings are counted. */
bool measure_counted(const struct measure *m);

/* The bucket (0 .. MEASURE_BUCKETS-1) of CUSTOMER for TRIGGER: murmur3's
 * fmix64 of the 64-bit FNV-1a of "TRIGGER\0CUSTOMER\0", modulo
 * MEASURE_BUCKETS. Fixed forever: changing it would move customers
 * between the arms of a running test. */
uint32_t measure_bucket(const char *trigger, const char *customer);

/* True when CUSTOMER is in TRIGGER's holdout: their bucket is below the
 * share, so raising the share only moves customers into the holdout. */
bool measure_held_out(const struct measure *m, const char *trigger, const char *customer);

/* True when M has a goal and MSG is such an event (its name, its where). */
bool measure_goal_hit(const struct measure *m, const struct message *msg, const struct eval_ctx *ctx);

/* The firing times an event at TS converts: [*LO, *HI), that is, a firing
 * converts when the goal's event comes after it (not at the same
 * millisecond: an event cannot convert its own firing) and at most the
 * goal's within later. */
void measure_window(const struct measure *m, int64_t ts, int64_t *lo, int64_t *hi);

/* The record of a firing of TRIGGER at MS in FIELDS (replay; the fire
 * script writes the same field). */
void measure_open(json_t *fields, const char *trigger, int64_t ms, bool held_out);

/* When the record of TRIGGER in FIELDS converts by an event at TS (M's
 * window): removes it, sets *HELD_OUT to its arm and returns true. */
bool measure_convert(json_t *fields, const struct measure *m, const char *trigger, int64_t ts, bool *held_out);

#endif
