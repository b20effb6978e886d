/* test_cmd.c — Redis command pieces built without printf: numbers at their edges, a customer's key. */
#include "cmd.h"
#include "harness.h"
#include "keys.h"

/* Command pieces built without printf: numbers at their edges, and a
 * customer's key. Owned pieces live in the arena until sent. */
static void test_cmd_pieces(void)
{
    struct cmd c;
    struct keys k = {.prefix = "nudged:", .shards = 16};
    cmd_init(&c);
    cmd_addi(&c, 0);
    cmd_addi(&c, -5);
    cmd_addi(&c, INT64_MIN);
    cmd_addi(&c, INT64_MAX);
    keys_add_customer(&c, &k, "ann@example.com", "p");
    static const char *const want[] = {"0", "-5", "-9223372036854775808", "9223372036854775807",
                                       "nudged:{5}:ann@example.com:p"}; /* shard 5 of 16 */
    CHECK(c.n == 5, "5 pieces, not %zu", c.n);
    for (size_t i = 0; i < c.n && i < 5; i++) {
        const char *got = c.arena + c.off[i];
        CHECK(c.lens[i] == strlen(want[i]) && memcmp(got, want[i], c.lens[i]) == 0, "piece %zu: %.*s", i,
              (int)c.lens[i], got);
    }
    cmd_free(&c);
}

/* A customer's key names its shard (fnv1a32 mod shards, as a producer in
 * Python computes it: tests/integration/harness.py) first, in its tag. */
static void test_customer_keys(void)
{
    static const struct {
        unsigned shards;
        const char *id;
        const char *kinds;
        const char *want;
    } cases[] = {
        {16, "bob", "d", "nudged:{4}:bob:d"},
        {1024, "c1", "p", "nudged:{985}:c1:p"},
        {1024, "zoe", "a", "nudged:{697}:zoe:a"},
        {1, "x{y}:z", "s", "nudged:{0}:x{y}:z:s"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cmd c;
        struct keys k = {.prefix = "nudged:", .shards = cases[i].shards};
        cmd_init(&c);
        keys_add_customer(&c, &k, cases[i].id, cases[i].kinds);
        const char *got = c.arena + c.off[0];
        CHECK(c.lens[0] == strlen(cases[i].want) && memcmp(got, cases[i].want, c.lens[0]) == 0, "got %.*s, want %s",
              (int)c.lens[0], got, cases[i].want);
        cmd_free(&c);
    }
    struct cmd c;
    struct keys k = {.prefix = "nudged:", .shards = 16};
    cmd_init(&c);
    keys_add_customer(&c, &k, "bob", "pds");
    CHECK(c.n == 3, "three kinds, three keys: %zu", c.n);
    for (size_t i = 0; i < c.n && i < 3; i++) {
        char want[32];
        snprintf(want, sizeof want, "nudged:{4}:bob:%c", "pds"[i]);
        CHECK(c.lens[i] == strlen(want) && memcmp(c.arena + c.off[i], want, c.lens[i]) == 0, "key %zu: %.*s", i,
              (int)c.lens[i], c.arena + c.off[i]);
    }
    cmd_free(&c);
}

int main(void)
{
    test_cmd_pieces();
    test_customer_keys();
    return harness_summary("test_cmd");
}
