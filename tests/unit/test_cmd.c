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
    keys_add_customer(&c, &k, "ann@example.com", 'p');
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

int main(void)
{
    test_cmd_pieces();
    return harness_summary("test_cmd");
}
