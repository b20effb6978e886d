/* uplift.c — rates, uplift and Newcombe's interval (uplift.h). */
#include "uplift.h"

#include <math.h>

/* The 97.5th percentile of the standard normal distribution. */
#define UPLIFT_Z 1.959963984540054

void uplift_wilson(uint64_t x, uint64_t n, double *low, double *high)
{
    double z2 = UPLIFT_Z * UPLIFT_Z, nn = (double)n, xx = (double)x;
    double centre = (xx + z2 / 2) / (nn + z2);
    double half = UPLIFT_Z * sqrt(xx * (nn - xx) / nn + z2 / 4) / (nn + z2);
    *low = centre - half;
    *high = centre + half;
    /* exact at the ends, where rounding could leave -1e-17 */
    if (x == 0)
        *low = 0;
    if (x == n)
        *high = 1;
}

static enum uplift_verdict verdict_of(bool has_goal, const struct uplift *u)
{
    if (!has_goal)
        return UPLIFT_NO_GOAL;
    if (!u->has_value)
        return UPLIFT_NO_HOLDOUT;
    if (u->low > 0)
        return UPLIFT_HELPS;
    if (u->high < 0)
        return UPLIFT_HURTS;
    return UPLIFT_NO_EVIDENCE;
}

struct uplift uplift_compute(bool has_goal, struct uplift_arm treated, struct uplift_arm held_out)
{
    struct uplift u = {0};
    double l1 = 0, u1 = 0, l2 = 0, u2 = 0;
    u.has_treated = has_goal && treated.fired > 0;
    u.has_held_out = has_goal && held_out.fired > 0;
    if (u.has_treated) {
        u.rate_treated = (double)treated.converted / (double)treated.fired;
        uplift_wilson(treated.converted, treated.fired, &l1, &u1);
    }
    if (u.has_held_out) {
        u.rate_held_out = (double)held_out.converted / (double)held_out.fired;
        uplift_wilson(held_out.converted, held_out.fired, &l2, &u2);
    }
    u.has_value = u.has_treated && u.has_held_out;
    if (u.has_value) {
        double p1 = u.rate_treated, p2 = u.rate_held_out;
        u.value = p1 - p2;
        u.low = u.value - sqrt((p1 - l1) * (p1 - l1) + (u2 - p2) * (u2 - p2));
        u.high = u.value + sqrt((u1 - p1) * (u1 - p1) + (p2 - l2) * (p2 - l2));
    }
    u.verdict = verdict_of(has_goal, &u);
    return u;
}

const char *uplift_verdict_text(enum uplift_verdict v)
{
    switch (v) {
    case UPLIFT_NO_GOAL: return "no goal: give the trigger a goal to measure it";
    case UPLIFT_NO_HOLDOUT: return "no comparison yet: both groups need firings (a holdout makes the second)";
    case UPLIFT_NO_EVIDENCE: return "no evidence yet";
    case UPLIFT_HELPS: return "it works: more customers convert with it";
    case UPLIFT_HURTS: return "it hurts: fewer customers convert with it";
    }
    return "";
}
