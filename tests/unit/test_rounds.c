/* test_rounds.c — which round of a batch each event runs in. */
#include "harness.h"
#include "rounds.h"

/* The n-th event of a person runs in round n; ids merged in the batch are
 * one person, also when the merge comes after some of their events. */
static void test_rounds(void)
{
    static const struct {
        const char *customer, *merge_from;
        bool valid;
        unsigned round;
    } cases[] = {
        {"ann", NULL, true, 0},     {"bob", NULL, true, 0},    {"ann", NULL, true, 1},  {"anon-1", NULL, true, 2},
        {"ann", "anon-1", true, 3}, {"anon-1", NULL, true, 4}, {"cid", NULL, false, 0}, {"cid", NULL, true, 0},
    };
    size_t n = sizeof cases / sizeof cases[0];
    struct entry e[sizeof cases / sizeof cases[0]];
    memset(e, 0, sizeof e);
    for (size_t i = 0; i < n; i++) {
        e[i].m.customer = cases[i].customer;
        e[i].m.merge_from = cases[i].merge_from;
        e[i].valid = cases[i].valid;
    }
    CHECK(rounds_assign(e, n) == 5, "five rounds for the five events of ann and anon-1");
    for (size_t i = 0; i < n; i++)
        CHECK(e[i].round == cases[i].round, "entry %zu (%s) belongs in round %u, is in %u", i, cases[i].customer,
              cases[i].round, e[i].round);
    CHECK(rounds_assign(e, 0) == 1, "an empty batch takes one round");
}

int main(void)
{
    test_rounds();
    return harness_summary("test_rounds");
}
