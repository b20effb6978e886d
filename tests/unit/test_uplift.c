/* test_uplift.c — Newcombe's hybrid score interval against the values of
 * Newcombe (1998), table II, method 10, and of statsmodels 0.13
 * (confint_proportions_2indep, method="newcomb"), to four decimals; the
 * rates, and the verdict at its edges. */
#include "harness.h"
#include "uplift.h"

#include <math.h>

static void test_reference(void)
{
    static const struct {
        uint64_t a, n1, b, n2;
        double low, high;
    } cases[] = {
        {56, 70, 48, 80, 0.052431, 0.333873},      {9, 10, 3, 10, 0.170523, 0.809018},
        {6, 7, 2, 7, 0.058228, 0.806250},          {5, 56, 0, 29, -0.038137, 0.192560},
        {0, 10, 0, 20, -0.161125, 0.277533},       {0, 10, 0, 10, -0.277533, 0.277533},
        {10, 10, 0, 20, 0.679086, 1.000000},       {10, 10, 0, 10, 0.607509, 1.000000},
        {152, 1234, 11, 137, -0.017378, 0.082843},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct uplift u = uplift_compute(true, (struct uplift_arm){cases[i].n1, cases[i].a},
                                         (struct uplift_arm){cases[i].n2, cases[i].b});
        CHECK(u.has_value && fabs(u.low - cases[i].low) < 5e-6 && fabs(u.high - cases[i].high) < 5e-6,
              "%llu/%llu vs %llu/%llu: got (%.6f, %.6f), want (%.6f, %.6f)", (unsigned long long)cases[i].a,
              (unsigned long long)cases[i].n1, (unsigned long long)cases[i].b, (unsigned long long)cases[i].n2, u.low,
              u.high, cases[i].low, cases[i].high);
        double d = (double)cases[i].a / (double)cases[i].n1 - (double)cases[i].b / (double)cases[i].n2;
        CHECK(fabs(u.value - d) < 1e-12, "the uplift is the difference of the rates");
    }
}

static void test_verdicts(void)
{
    struct uplift_arm some = {100, 10}, none = {0, 0};
    CHECK(uplift_compute(false, some, some).verdict == UPLIFT_NO_GOAL, "no goal");
    struct uplift u = uplift_compute(true, some, none);
    CHECK(u.verdict == UPLIFT_NO_HOLDOUT && u.has_treated && !u.has_held_out && !u.has_value, "nobody held out");
    CHECK(fabs(u.rate_treated - 0.1) < 1e-12, "the treated rate");
    CHECK(uplift_compute(true, some, some).verdict == UPLIFT_NO_EVIDENCE, "equal rates");
    CHECK(uplift_compute(true, (struct uplift_arm){70, 56}, (struct uplift_arm){80, 48}).verdict == UPLIFT_HELPS,
          "an interval above zero");
    CHECK(uplift_compute(true, (struct uplift_arm){80, 48}, (struct uplift_arm){70, 56}).verdict == UPLIFT_HURTS,
          "an interval below zero");
    CHECK_STR(uplift_verdict_text(UPLIFT_NO_EVIDENCE), "no evidence yet", "the words");
}

static void test_wilson(void)
{
    double lo, hi;
    uplift_wilson(0, 10, &lo, &hi);
    CHECK(lo == 0 && fabs(hi - 0.277533) < 5e-6, "0 of 10: (%f, %f)", lo, hi);
    uplift_wilson(10, 10, &lo, &hi);
    CHECK(hi == 1 && fabs(lo - 0.722467) < 5e-6, "10 of 10: (%f, %f)", lo, hi);
}

int main(void)
{
    test_reference();
    test_verdicts();
    test_wilson();
    return harness_summary("test_uplift");
}
