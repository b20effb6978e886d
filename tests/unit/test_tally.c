/* test_tally.c — a round's counts as one tally, and back (tally.h): what
 * the commit pushes is what the fold and the report add up, and a tally
 * that is not one is refused whole. */
#include "cmd.h"
#include "harness.h"
#include "tally.h"

#include <string.h>

static json_int_t count(json_t *counts, const char *id, const char *c)
{
    return json_integer_value(json_object_get(json_object_get(counts, id), c));
}

static void test_round_trip(void)
{
    json_t *round = json_object(), *back = json_object();
    tally_add(round, "cart", 4, "t", 1);
    tally_add(round, "cart", 4, "t", 1);
    tally_add(round, "cart-2", 6, "ch", 3);
    tally_add(round, "cartXXX", 4, "h", 1); /* only IDLEN bytes of the id */
    struct cmd c;
    cmd_init(&c);
    tally_format(&c, round);
    CHECK(c.n == 1, "one argument, however many triggers");
    const char *arena = c.off[0] == CMD_BORROWED ? c.argv[0] : c.arena + c.off[0];
    CHECK(tally_parse(back, arena, c.lens[0]) == 0, "its own tally parses");
    CHECK(count(back, "cart", "t") == 2 && count(back, "cart", "h") == 1 && count(back, "cart-2", "ch") == 3,
          "the same counts come back");
    CHECK(tally_parse(back, arena, c.lens[0]) == 0 && count(back, "cart", "t") == 4, "a second tally adds up");
    cmd_free(&c);
    json_t *none = json_object();
    cmd_init(&c);
    tally_format(&c, none);
    CHECK(c.n == 1 && c.lens[0] == 0, "no counts: an empty tally");
    cmd_free(&c);
    json_decref(none);
    json_decref(round);
    json_decref(back);
}

static void test_damaged(void)
{
    static const char *const bad[] = {
        "cart t",                     /* no number */
        "cart t x",                   /* not a number */
        "cart t -1",                  /* not a count */
        "cart  t 1",                  /* an empty word */
        "cart t 1 other",             /* a triple cut short */
        "cart t 1234567890123456789", /* past what a count can be */
        "cart toolongname 1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *counts = json_object();
        tally_add(counts, "cart", 4, "t", 5);
        CHECK(tally_parse(counts, bad[i], strlen(bad[i])) == -1, "refused: \"%s\"", bad[i]);
        CHECK(count(counts, "cart", "t") == 5 && json_object_size(counts) == 1, "nothing of it added: \"%s\"", bad[i]);
        json_decref(counts);
    }
    json_t *counts = json_object();
    CHECK(tally_parse(counts, "", 0) == 0 && json_object_size(counts) == 0, "an empty tally adds nothing");
    json_decref(counts);
}

int main(void)
{
    test_round_trip();
    test_damaged();
    return harness_summary("test_tally");
}
