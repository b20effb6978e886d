/* measure.h — did a trigger work? (SPEC 3, "Measuring the effect"): its
 * goal (the event that counts as a conversion when it comes within a
 * window after a firing), its holdout (the share of customers for whom it
 * fires but sends nothing), and the customer's records of firings that
 * may still convert. Pure: decision.h applies them to a profile, for the
 * daemon and `nudged replay` alike.
 *
 * The records are profile fields, one for each trigger with a goal whose
 * last firing for the customer has not converted and whose window has not
 * ended: "o:TRIGGER" = "ARM AT DEADLINE GOAL" (ARM "t" treated or "h" held
 * out; AT the firing's moment and DEADLINE the end of its window, in ms;
 * GOAL the goal's id). A firing writes its trigger's field alone (a few
 * dozen bytes, whatever the number of triggers), a newer one replacing
 * the older (a conversion is credited to the latest firing before it).
 * An event that is some trigger's goal looks at the customer's records
 * (in memory, where the profile is: no read of past firings) and converts
 * those of its goals whose window holds it: AT < its time <= DEADLINE. A
 * record goes when it converts (a firing converts once), and at the first
 * goal event after its window ended; there is at most one a trigger. */
#ifndef NUDGED_MEASURE_H
#define NUDGED_MEASURE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "errlist.h"
#include "message.h"
#include "path.h"
#include "util.h"

struct counter;

/* A holdout share is counted in MEASURE_BUCKETS buckets: "10%" is 1,000 of
 * them, "2.5%" 250; a share has at most two decimals. */
#define MEASURE_BUCKETS UTIL_SHARE_BUCKETS

/* The counts of a measured trigger (in its own hash, keys.h): its firings
 * that acted and that were held out, and the conversions of each. */
#define MEASURE_FIRED "t"
#define MEASURE_HELD_OUT "h"
#define MEASURE_CONVERTED_TREATED "ct"
#define MEASURE_CONVERTED_HELD_OUT "ch"

/* The prefix of a record's profile field, before its trigger's id. */
#define MEASURE_PREFIX "o:"
/* The goal's id: the 12 hex digits of its (event, where) counter field. */
#define MEASURE_GOAL_ID_LEN 13
/* Room for one record: ARM " " AT " " DEADLINE " " GOAL. */
#define MEASURE_RECORD_LEN (2 + 2 * 21 + MEASURE_GOAL_ID_LEN + 1)

struct measure {
    struct counter *goal; /* owned; NULL: no goal. Its window_ms is the goal's within */
    uint32_t holdout;     /* the held-out share, in buckets (0: none) */
};

/* Loads a trigger's "goal" and "holdout" (either may be NULL) into M.
 * Returns 0, or -1 after reporting every problem through D. */
int measure_load(struct measure *m, json_t *goal, json_t *holdout, const struct diag *d);
void measure_clear(struct measure *m);

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

/* M's goal id (MEASURE_GOAL_ID_LEN with its NUL), borrowed; NULL without
 * a goal. Triggers whose goals have the same event and where share it. */
const char *measure_goal_id(const struct measure *m);

/* True when M has a goal and MSG is such an event (its name, its where). */
bool measure_goal_hit(const struct measure *m, const struct message *msg, const struct eval_ctx *ctx);

/* The record (the field's value) of a firing of a trigger whose measure M
 * has a goal, at AT, into OUT: its window ends M's within after AT. */
void measure_record(char out[MEASURE_RECORD_LEN], const struct measure *m, int64_t at, bool held_out);

enum measure_check {
    MEASURE_OPEN,     /* it stays */
    MEASURE_ENDED,    /* its window ended before the event (or it is damaged): it goes */
    MEASURE_CONVERTS, /* the event converts it: it goes */
};

/* What an event at TS that is the goal of the goal ids in HITS (" ID ID
 * ... ", a space on either side of each) does to the record REC; for a
 * conversion, *HELD_OUT gets its arm. */
enum measure_check measure_check(const char *rec, const char *hits, int64_t ts, bool *held_out);

/* Called for each record that converts: its trigger (LEN bytes at ID, not
 * terminated) and arm. */
typedef void measure_converted_fn(void *data, const char *id, size_t len, bool held_out);

#endif
