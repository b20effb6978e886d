/* test_measure.c — goals and holdouts: the holdout split (its size over
 * 100,000 ids, its values fixed forever, growing only into the holdout),
 * shares, the goal window's edges, one conversion per firing, the records
 * of several triggers in one field. */
#include "errlist.h"
#include "harness.h"
#include "measure.h"
#include "message.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_share(void)
{
    static const struct {
        const char *s;
        int want; /* buckets, -1: refused */
    } cases[] = {{"10%", 1000}, {"2.5%", 250}, {"0.01%", 1},   {"0%", 0},   {"100%", 10000}, {"100.01%", -1},
                 {"10", -1},    {"%", -1},     {"1.234%", -1}, {"-5%", -1}, {"10 %", -1},    {"", -1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t b = 99999;
        int rc = util_parse_share(cases[i].s, &b);
        if (cases[i].want < 0)
            CHECK(rc == -1, "\"%s\" should be refused", cases[i].s);
        else
            CHECK(rc == 0 && b == (uint32_t)cases[i].want, "\"%s\": got %u, want %d", cases[i].s, b, cases[i].want);
    }
}

static void test_split(void)
{
    struct measure m = {NULL, 1000}, more = {NULL, 1500};
    char id[32];
    unsigned held = 0, moved_out = 0;
    for (int i = 0; i < 100000; i++) {
        snprintf(id, sizeof id, "user-%d", i);
        bool h = measure_held_out(&m, "abandoned-cart", id);
        held += h;
        moved_out += h && !measure_held_out(&more, "abandoned-cart", id);
    }
    CHECK(held >= 9500 && held <= 10500, "a 10%% holdout over 100,000 ids held out %u", held);
    CHECK(moved_out == 0, "raising the share moved %u customers out of the holdout", moved_out);
    /* Fixed values: the split may never change between versions (the
     * integration tests and docs/triggers.md compute the same). */
    CHECK(measure_bucket("abandoned-cart", "c2") == 528, "bucket of c2: %u", measure_bucket("abandoned-cart", "c2"));
    CHECK(measure_bucket("abandoned-cart", "c1") >= 1000, "c1 is treated at 10%%");
    CHECK(measure_bucket("cart", "k0000") == measure_bucket("cart", "k0000"), "stable");
    CHECK(measure_bucket("a", "bc") != measure_bucket("ab", "c"), "the parts are kept apart");
    struct measure none = {NULL, 0};
    CHECK(!measure_held_out(&none, "abandoned-cart", "c2"), "no holdout holds nobody out");
}

static struct measure goal(const char *within)
{
    struct errlist errs = {0};
    struct diag d = {&errs, "t.json", "t"};
    char text[128];
    snprintf(text, sizeof text, "{\"event\": \"Order Completed\", \"within\": \"%s\"}", within);
    json_t *g = json_loads(text, 0, NULL);
    struct measure m;
    CHECK(measure_load(&m, g, NULL, &d) == 0, "goal within %s loads", within);
    json_decref(g);
    errlist_clear(&errs);
    return m;
}

/* What an event at TS, the goal of HITS, does to REC. */
static enum measure_check check(const char *rec, const char *hits, int64_t ts, bool *held_out)
{
    *held_out = false;
    return measure_check(rec, hits, ts, held_out);
}

static void test_window(void)
{
    struct measure m = goal("3d");
    const int64_t fired = 1000000, day = 86400000;
    char rec[MEASURE_RECORD_LEN], hits[32];
    bool held;
    snprintf(hits, sizeof hits, " %s ", measure_goal_id(&m));
    measure_record(rec, &m, fired, false);
    CHECK_STR(rec, "t 1000000 260200000 85d9e7362246", "the record the profile keeps");
    static const struct {
        const char *name;
        int64_t at;
        enum measure_check want;
    } cases[] = {
        {"the same millisecond (its own event)", 0, MEASURE_OPEN},
        {"a millisecond later", 1, MEASURE_CONVERTS},
        {"exactly at the end of the window", 3 * day, MEASURE_CONVERTS},
        {"a millisecond after the window", 3 * day + 1, MEASURE_ENDED},
        {"before the firing", -1, MEASURE_OPEN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(check(rec, hits, fired + cases[i].at, &held) == cases[i].want && !held, "%s", cases[i].name);
    /* another goal's event converts nothing; a held-out record converts as such */
    measure_record(rec, &m, fired, true);
    CHECK(check(rec, " 000000000000 ", fired + 10, &held) == MEASURE_OPEN, "another goal's event");
    char two[64];
    snprintf(two, sizeof two, " 000000000000 %s ", measure_goal_id(&m));
    CHECK(check(rec, two, fired + 10, &held) == MEASURE_CONVERTS && held, "a held-out firing converts as such");
    snprintf(two, sizeof two, " x%s ", measure_goal_id(&m));
    CHECK(check(rec, two, fired + 10, &held) == MEASURE_OPEN, "only a whole goal id matches");
    /* a damaged record converts nothing and goes */
    static const char *const junk[] = {"x 1 2 85d9e7362246", "t 1 2", "t a b 85d9e7362246", "t 1 9999999999 85d9", ""};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        CHECK(check(junk[i], hits, 5, &held) == MEASURE_ENDED, "junk \"%s\"", junk[i]);
    measure_clear(&m);
}

static void test_goal_hit(void)
{
    struct measure m = goal("1h");
    json_t *order = json_pack("{s:s, s:s}", "type", "track", "event", "Order Completed");
    struct message track = {MESSAGE_TRACK, "c", "m1", "Order Completed", 0, NULL};
    struct message other = {MESSAGE_TRACK, "c", "m2", "Product Added", 0, NULL};
    struct message page = {MESSAGE_PAGE, "c", "m3", "Order Completed", 0, NULL};
    struct eval_ctx ctx = {order, NULL, NULL, NULL, 0, NULL, NULL, NULL};
    CHECK(measure_goal_hit(&m, &track, &ctx), "the goal's event");
    CHECK(!measure_goal_hit(&m, &other, &ctx), "another event");
    CHECK(!measure_goal_hit(&m, &page, &ctx), "a page of the same name");
    struct measure none = {NULL, 0};
    CHECK(!measure_goal_hit(&none, &track, &ctx), "no goal");
    json_decref(order);
    measure_clear(&m);
}

int main(void)
{
    test_share();
    test_split();
    test_window();
    test_goal_hit();
    return harness_summary("test_measure");
}
