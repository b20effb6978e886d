/* test_tier.c — value tiers at their edges: 1, 3 and 1,000 buyers, ties in
 * revenue, the percentile, and the move an order makes. */
#include "harness.h"
#include "tier.h"

#include <jansson.h>

#define SHARE 2000 /* 20 % */

static void test_names(void)
{
    static const struct {
        const char *name;
        int64_t higher, buyers;
        const char *want;
        int percentile;
    } cases[] = {
        {"no buyer", -1, 10, NULL, -1},
        {"the only buyer", 0, 1, "top", 100},
        {"the highest of 3 (ceil(0.6) = 1)", 0, 3, "top", 100},
        {"the second of 3", 1, 3, "regular", 66},
        {"the lowest of 3", 2, 3, "regular", 33},
        {"two tied at the top of 3: both rank first", 0, 3, "top", 100},
        {"the 200th of 1,000", 199, 1000, "top", 80},
        {"the 201st of 1,000", 200, 1000, "regular", 80},
        {"a tie at the edge of 1,000 shares the rank", 199, 1000, "top", 80},
        {"the lowest of 1,000", 999, 1000, "regular", 0},
        {"5 buyers: one is top", 1, 5, "regular", 80},
        {"6 buyers: two are top (ceil(1.2))", 1, 6, "top", 83},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tier_rank r = {cases[i].higher, cases[i].buyers};
        const char *got = tier_name(r, SHARE);
        CHECK(cases[i].want ? harness_streq(got, cases[i].want) : got == NULL, "%s: %s", cases[i].name,
              harness_show(got));
        CHECK(tier_percentile(r) == cases[i].percentile, "%s: percentile %d", cases[i].name, tier_percentile(r));
    }
    CHECK(harness_streq(tier_name((struct tier_rank){0, 3}, 10000), "top") &&
              harness_streq(tier_name((struct tier_rank){2, 3}, 10000), "top"),
          "a share of 100 %%: every buyer is top");
}

static void test_moves(void)
{
    /* a first order: no tier before */
    struct tier_rank after = {0, 3};
    struct tier_rank before = tier_before(after, 0, true, true);
    CHECK(before.higher == -1 && before.buyers == 2, "no buyer before a first order");
    CHECK(harness_streq(tier_moved(before, after, SHARE), "top"), "a first order can move into top");
    /* 3 buyers: with 40 before (two above: 80 and 50) and 90 after: top */
    after = (struct tier_rank){0, 3};
    before = tier_before(after, 3, false, true); /* above 40: 80, 50 and the customer's own 90 */
    CHECK(before.higher == 2, "the customer's own new revenue is not above them: %lld", (long long)before.higher);
    CHECK(harness_streq(tier_moved(before, after, SHARE), "top"), "regular to top");
    CHECK(tier_moved(after, after, SHARE) == NULL, "no move within the tier");
    CHECK(tier_moved((struct tier_rank){0, 3}, (struct tier_rank){1, 4}, SHARE) != NULL,
          "top to regular is a move into regular");
    json_t *view = json_object();
    tier_add_view(view, (struct tier_rank){-1, 5}, SHARE);
    CHECK(json_object_size(view) == 0, "no tier for a customer without orders");
    tier_add_view(view, (struct tier_rank){0, 5}, SHARE);
    CHECK(harness_streq(json_string_value(json_object_get(view, "value_tier")), "top") &&
              json_integer_value(json_object_get(view, "value_percentile")) == 100,
          "the view");
    json_decref(view);
}

int main(void)
{
    test_names();
    test_moves();
    return harness_summary("test_tier");
}
