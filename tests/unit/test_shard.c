/* test_shard.c — the shard rules of SPEC 8: a customer's shard, a
 * process's share of the shards. */
#include "harness.h"
#include "shard.h"
#include "util.h"

#include <stdio.h>

/* fnv1a32 against the reference values of the FNV authors (so a producer
 * in another language computes the same), and the shard it gives. */
static void test_shard_rule(void)
{
    CHECK(util_fnv1a32("") == 0x811c9dc5u, "fnv1a32 of the empty string");
    CHECK(util_fnv1a32("a") == 0xe40c292cu, "fnv1a32(\"a\")");
    CHECK(util_fnv1a32("foobar") == 0xbf9cf968u, "fnv1a32(\"foobar\")");
    CHECK(shard_of("foobar", 16) == 0xbf9cf968u % 16, "the shard is fnv1a32 mod shards");
    CHECK(shard_of("foobar", 1) == 0 && shard_of("foobar", 0) == 0, "one shard: shard 0");
    unsigned count[16] = {0};
    char id[32];
    for (int i = 0; i < 16000; i++) {
        snprintf(id, sizeof id, "customer-%d", i);
        count[shard_of(id, 16)]++;
    }
    for (int k = 0; k < 16; k++)
        CHECK(count[k] > 800 && count[k] < 1200, "16,000 ids spread evenly: shard %d has %u", k, count[k]);
}

/* Every shard has exactly one of N processes; shares differ by at most one;
 * processes past the number of shards get none. */
static void test_shares(void)
{
    for (unsigned n = 1; n <= 20; n++) {
        unsigned owners[16] = {0}, most = 0, least = 16;
        for (unsigned p = 0; p < n; p++) {
            unsigned mine = 0;
            for (unsigned k = 0; k < 16; k++)
                if (shard_is_share(k, p, n)) {
                    owners[k]++;
                    mine++;
                }
            most = mine > most ? mine : most;
            least = mine < least ? mine : least;
        }
        bool one_each = true;
        for (unsigned k = 0; k < 16; k++)
            one_each &= owners[k] == 1;
        CHECK(one_each, "%u processes: every shard has one owner", n);
        CHECK(most - least <= 1, "%u processes: shares of %u to %u shards", n, least, most);
        CHECK(n <= 16 || least == 0, "%u processes: the ones past 16 wait", n);
    }
    CHECK(!shard_is_share(0, 0, 0), "no process: no share");
    CHECK(shard_is_share(3, 0, 3) && shard_is_share(4, 1, 3) && !shard_is_share(4, 0, 3), "k mod n");
}

/* The runs of owned shards a call names: all of them on one Redis, one
 * each on a Cluster. */
static void test_runs(void)
{
    const bool owned[6] = {false, true, false, true, true, false};
    unsigned n, end = shard_run(owned, 6, 0, false, &n);
    CHECK(end == 6 && n == 3, "one Redis: one call for the three owned shards (end %u, %u shards)", end, n);
    unsigned calls = 0, total = 0;
    for (unsigned i = 0; i<6; calls += n> 0, total += n)
        i = shard_run(owned, 6, i, true, &n);
    CHECK(calls == 3 && total == 3, "a Cluster: a call for each owned shard (%u calls)", calls);
    CHECK(shard_run(owned, 6, 1, true, &n) == 2 && n == 1, "a Cluster: the run ends after the owned shard");
    CHECK(shard_run(owned, 6, 5, true, &n) == 6 && n == 0, "none left: an empty run to the end");
}

int main(void)
{
    test_shard_rule();
    test_shares();
    test_runs();
    return harness_summary("test_shard");
}
