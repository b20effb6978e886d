/* uplift.h — what a trigger added (SPEC 3, `nudged report`): the
 * conversion rates of the customers it acted for (treated) and of those it
 * held out, their difference, and that difference's 95 % confidence
 * interval by Newcombe's hybrid score method (method 10 of Newcombe 1998,
 * "Interval estimation for the difference between independent
 * proportions", Statistics in Medicine 17:873-890): Wilson score intervals
 * of each rate, combined. Unlike the textbook Wald interval it stays
 * within [-1, 1] and keeps its coverage with small counts and with rates
 * at 0 or 1, which a trigger's first days have. Pure arithmetic. */
#ifndef NUDGED_UPLIFT_H
#define NUDGED_UPLIFT_H

#include <stdbool.h>
#include <stdint.h>

struct uplift_arm {
    uint64_t fired, converted;
};

enum uplift_verdict {
    UPLIFT_NO_GOAL,     /* the trigger has no goal: nothing converts */
    UPLIFT_NO_HOLDOUT,  /* nobody held out (yet): nothing to compare with */
    UPLIFT_NO_EVIDENCE, /* the interval holds zero */
    UPLIFT_HELPS,       /* the interval is above zero */
    UPLIFT_HURTS,       /* the interval is below zero */
};

struct uplift {
    bool has_treated, has_held_out; /* a rate exists (its arm fired) */
    double rate_treated, rate_held_out;
    bool has_value; /* both rates exist */
    double value, low, high;
    enum uplift_verdict verdict;
};

/* Wilson's 95 % score interval of X successes in N > 0 trials. */
void uplift_wilson(uint64_t x, uint64_t n, double *low, double *high);

/* The rates, uplift and interval of TREATED against HELD_OUT; HAS_GOAL
 * false gives UPLIFT_NO_GOAL whatever the counts. */
struct uplift uplift_compute(bool has_goal, struct uplift_arm treated, struct uplift_arm held_out);

/* The verdict in plain words, for a marketer ("no evidence yet", ...). */
const char *uplift_verdict_text(enum uplift_verdict v);

#endif
