/* decision.h — what one firing of a trigger does for one customer, decided
 * once for the daemon and `nudged replay` (SPEC 3): its limit, its goal's
 * record and its holdout (measure.h), its actions rendered, the frequency
 * cap on its emails, and its score and set on the profile; and what an
 * event that is a goal converts. Pure: the daemon writes the outcome into
 * its commit (firing.h), replay prints it. */
#ifndef NUDGED_DECISION_H
#define NUDGED_DECISION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "measure.h"
#include "trigger.h"

enum decision_kind {
    DECISION_LIMITED,  /* its limit stops it: nothing happens */
    DECISION_HELD_OUT, /* it fires, counted and recorded, but no action runs */
    DECISION_ACTS,
};

/* [triggers] frequency_cap: at most MAX emails in PER_MS (MAX 0: none). */
struct decision_cap {
    int64_t max, per_ms;
};

#define DECISION_ERR_LEN 256

struct decision {
    enum decision_kind kind;
    size_t n;                      /* the trigger's actions, when it acts */
    struct action_out *out;        /* action i rendered; its kind set also when it could not be */
    char (*err)[DECISION_ERR_LEN]; /* why action i could not be rendered; "" when it was */
    bool *capped;                  /* email i is not sent: the customer reached the cap */
    size_t ncapped;
};

/* Decides a firing of T for CUSTOMER, whose profile FIELDS it changes (the
 * fields it touches noted in BEFORE, as customer_apply notes them; NULL:
 * not kept). NOW_MS (CTX->now_ms) is when its limit and the cap count it;
 * AT its moment, which a goal's window starts from. CTX judged it (the
 * customer after the event); CTX->trigger is set. */
void decision_make(struct decision *d, const struct trigger *t, const char *customer, json_t *fields, json_t *before,
                   struct eval_ctx *ctx, int64_t at, const struct decision_cap *cap);
void decision_clear(struct decision *d);

/* The records of FIELDS (fields MEASURE_PREFIX...) after an event at TS
 * that is the goal of the goal ids HITS (measure_check): FN is told of
 * each firing it converts; converted and ended records go, noted in
 * BEFORE. */
void decision_convert(json_t *fields, json_t *before, const char *hits, int64_t ts, measure_converted_fn *fn,
                      void *data);

#endif
