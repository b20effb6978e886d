/* test_customer.c — the profile view and the lifecycle groups, and how traits merge. */
#include "customer.h"
#include "harness.h"
#include "message.h"
#include "trigger.h"
#include "tz.h"

static const char *apply(json_t *fields, const struct trigger_set *set, const char *text, int64_t now)
{
    json_t *msg = json_loads(text, 0, NULL);
    struct message m;
    char err[256];
    const char *moved = NULL;
    const struct counter *hits[8];
    if (msg && message_validate(msg, "1-0", now, &m, err, sizeof err) == 0) {
        struct eval_ctx ctx = {msg, NULL, NULL, NULL, now, NULL, NULL, NULL};
        struct customer_update u;
        customer_update_init(&u, &m, msg);
        u.counters = hits;
        u.ncounters = trigger_set_counters_hit(set, &m, &ctx, hits, 8);
        moved = customer_apply(fields, &u, now, 90 * 86400000LL, NULL);
        customer_update_clear(&u);
    }
    json_decref(msg);
    return moved;
}

/* The lifecycle groups and every move between them; revenue, orders, the
 * view; a windowed count at its edges; a limit. */
static void test_customer(void)
{
    struct errlist errs = {0};
    struct trigger_set *set = trigger_set_load_text(
        "c.json",
        "[{\"id\": \"three\", \"on\": \"Visit\", \"if\": {\"count\": {\"event\": \"Visit\", \"within\": \"1h\"}, "
        "\"gte\": 3}, " HARNESS_HOOK "},"
        " {\"id\": \"lim\", \"on\": \"Visit\", \"limit\": {\"max\": 2, \"per\": \"1h\"}, " HARNESS_HOOK "}]",
        &harness_files, &errs);
    CHECK(set != NULL, "customer set loads: %s", errs.n ? errs.lines[0] : "");
    if (set == NULL)
        return;
    const int64_t t0 = 1793577600000LL, day = 86400000LL;
    /* Revenue past a quadrillion is not added: twice 1e308 overflowed to
     * infinity, which rendered as null. */
    json_t *big = json_object();
    for (int i = 0; i < 2; i++)
        apply(big, set,
              "{\"type\":\"track\",\"userId\":\"r\",\"event\":\"Order Completed\",\"properties\":{\"revenue\":1e308},"
              "\"timestamp\":\"2026-11-02T00:00:00Z\"}",
              t0);
    apply(big, set,
          "{\"type\":\"track\",\"userId\":\"r\",\"event\":\"Order Completed\",\"properties\":{\"revenue\":12.5},"
          "\"timestamp\":\"2026-11-02T00:00:01Z\"}",
          t0);
    CHECK_STR(json_string_value(json_object_get(big, "rv")), "12.5", "huge revenue is not added");
    json_decref(big);
    json_t *f = json_object();
    const char *g =
        apply(f, set, "{\"type\":\"page\",\"anonymousId\":\"a\",\"timestamp\":\"2026-11-02T00:00:00Z\"}", t0);
    CHECK(g && strcmp(g, "interested") == 0, "a new visitor moves into interested: %s", g ? g : "(none)");
    g = apply(f, set,
              "{\"type\":\"identify\",\"anonymousId\":\"a\",\"traits\":{\"email\":\"a@b.test\"},\"timestamp\":\"2026-"
              "11-02T00:01:00Z\"}",
              t0);
    CHECK(g && strcmp(g, "potential") == 0, "an email makes a potential customer: %s", g ? g : "(none)");
    g = apply(f, set,
              "{\"type\":\"track\",\"anonymousId\":\"a\",\"event\":\"Order "
              "Completed\",\"properties\":{\"total\":40,\"revenue\":\"x\"},\"timestamp\":\"2026-11-02T00:02:00Z\"}",
              t0);
    CHECK(g && strcmp(g, "active") == 0, "an order makes an active customer: %s", g ? g : "(none)");
    g = apply(f, set,
              "{\"type\":\"track\",\"anonymousId\":\"a\",\"event\":\"Order "
              "Completed\",\"properties\":{\"revenue\":2.5,\"total\":99},\"timestamp\":\"2026-11-02T00:03:00Z\"}",
              t0);
    CHECK(g == NULL, "a second order is no move");
    json_t *state, *view = customer_view("a", f, t0, 90 * day, &state);
    CHECK(json_integer_value(json_object_get(view, "orders")) == 2, "orders");
    CHECK(json_number_value(json_object_get(view, "revenue")) == 42.5, "revenue: total, else revenue: %g",
          json_number_value(json_object_get(view, "revenue")));
    CHECK(strcmp(json_string_value(json_object_get(view, "last_order")), "2026-11-02T00:03:00.000Z") == 0,
          "last_order");
    const char *fs = json_string_value(json_object_get(view, "first_seen")),
               *ls = json_string_value(json_object_get(view, "last_seen"));
    CHECK(fs && ls && strcmp(fs, "2026-11-02T00:00:00.000Z") == 0 && strcmp(ls, "2026-11-02T00:03:00.000Z") == 0,
          "first and last seen over every event name: %s, %s", fs ? fs : "-", ls ? ls : "-");
    json_decref(view);
    json_decref(state);
    CHECK(strcmp(customer_group(f, t0 + 90 * day + 3 * 60000, 90 * day), "active") == 0, "active at the period's end");
    CHECK(strcmp(customer_group(f, t0 + 90 * day + 3 * 60000 + 1, 90 * day), "inactive") == 0, "inactive 1 ms later");
    g = apply(f, set, "{\"type\":\"page\",\"anonymousId\":\"a\",\"timestamp\":\"2027-03-01T00:00:00Z\"}",
              t0 + 120 * day);
    CHECK(g && strcmp(g, "inactive") == 0, "time moves an active customer to inactive: %s", g ? g : "(none)");
    g = apply(f, set,
              "{\"type\":\"identify\",\"anonymousId\":\"a\",\"traits\":{\"unsubscribed\":true},\"timestamp\":\"2027-03-"
              "01T00:01:00Z\"}",
              t0 + 120 * day);
    CHECK(g && strcmp(g, "excluded") == 0, "unsubscribing excludes: %s", g ? g : "(none)");
    json_decref(f);

    /* Windowed count at its edges, then a limit of 2 per hour. */
    f = json_object();
    const char *visits[] = {"2026-11-02T10:00:00.000Z", "2026-11-02T10:30:00.000Z", "2026-11-02T11:00:00.000Z",
                            "2026-11-02T12:00:00.001Z"};
    const int want_three[] = {0, 0, 1, 0}; /* the 4th: 11:00 is 1h+1ms old, 10:xx older */
    const struct trigger *three = trigger_set_find(set, "three"), *lim = trigger_set_find(set, "lim");
    for (int i = 0; i < 4; i++) {
        char text[200];
        int64_t ts;
        CHECK(message_parse_time(visits[i], &ts) == 0, "time parses");
        snprintf(text, sizeof text, "{\"type\":\"track\",\"userId\":\"v\",\"event\":\"Visit\",\"timestamp\":\"%s\"}",
                 visits[i]);
        apply(f, set, text, ts);
        view = customer_view("v", f, ts, 90 * day, &state);
        struct eval_ctx ctx = {NULL, view, NULL, NULL, ts, state, NULL, NULL};
        CHECK(trigger_if_holds(three, &ctx) == want_three[i], "three visits within 1h, visit %d", i + 1);
        bool allowed = customer_limit_allows(f, lim, ts);
        CHECK(allowed == (i != 2), "limit 2 per hour, visit %d", i + 1);
        if (allowed)
            customer_fired(f, NULL, lim, NULL, 0, ts);
        json_decref(view);
        json_decref(state);
    }
    json_decref(f);
    trigger_set_free(set);
}

static void test_trait_merge(void)
{
    static const struct {
        const char *old, *new_, *want;
    } cases[] = {
        {"{\"a\":{\"b\":1,\"c\":2},\"x\":1}", "{\"a\":{\"c\":3,\"d\":4}}", "{\"a\":{\"b\":1,\"c\":3,\"d\":4},\"x\":1}"},
        {"{\"a\":1}", "\"text\"", "\"text\""},
        {"\"text\"", "{\"a\":1}", "{\"a\":1}"},
        {NULL, "{\"a\":1}", "{\"a\":1}"},
        {"{\"a\":[1,2]}", "{\"a\":[3]}", "{\"a\":[3]}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = customer_trait_merge(cases[i].old, cases[i].new_);
        CHECK(strcmp(got, cases[i].want) == 0, "trait merge %zu: want %s, got %s", i, cases[i].want, got);
        free(got);
    }
}

/* The customer's clock: the hour, weekday and date at evaluation time in
 * their zone, at midnight, across the day line, and across both of
 * Amsterdam's DST changes in 2026 (29 March 01:00Z, 25 October 01:00Z). */
static void test_local_clock(void)
{
    static const struct {
        const char *name, *zone;
        int64_t now_ms;
        int hour;
        const char *weekday, *date;
    } cases[] = {
        {"utc midnight", "UTC", 1796169600000LL, 0, "wed", "2026-12-02"},
        {"a second before midnight", "UTC", 1796169599000LL, 23, "tue", "2026-12-01"},
        {"ahead of utc: already tomorrow", "Asia/Tokyo", 1796155200000LL, 5, "wed", "2026-12-02"},
        {"behind utc: still yesterday", "America/New_York", 1796169600000LL, 19, "tue", "2026-12-01"},
        {"before spring forward", "Europe/Amsterdam", 1774745999000LL, 1, "sun", "2026-03-29"},
        {"after spring forward", "Europe/Amsterdam", 1774746000000LL, 3, "sun", "2026-03-29"},
        {"before fall back", "Europe/Amsterdam", 1792889999000LL, 2, "sun", "2026-10-25"},
        {"after fall back", "Europe/Amsterdam", 1792890000000LL, 2, "sun", "2026-10-25"},
        {"no zone: the default's", NULL, 1796169600000LL, 1, "wed", "2026-12-02"},
        {"an unknown zone: the default's", "Mars/Base", 1796169600000LL, 1, "wed", "2026-12-02"},
        {"before 1970", "UTC", -1000LL, 23, "wed", "1969-12-31"},
    };
    struct tz_cache *cache = tz_cache_new(NULL);
    struct tz_zone zone_of = {cache, "Europe/Amsterdam"};
    struct eval_zone zone = {tz_zone_offset, &zone_of};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *view = json_pack("{s:s}", "id", "u1");
        if (cases[i].zone)
            json_object_set_new(view, "timezone", json_string(cases[i].zone));
        struct eval_ctx ctx = {NULL, view, NULL, NULL, cases[i].now_ms, NULL, NULL, &zone};
        path_add_local(&ctx);
        json_t *local = json_object_get(view, "local");
        CHECK(json_integer_value(json_object_get(local, "hour")) == cases[i].hour, "%s: hour %lld", cases[i].name,
              (long long)json_integer_value(json_object_get(local, "hour")));
        CHECK_STR(json_string_value(json_object_get(local, "weekday")), cases[i].weekday, cases[i].name);
        CHECK_STR(json_string_value(json_object_get(local, "date")), cases[i].date, cases[i].name);
        json_decref(view);
    }
    tz_cache_free(cache);
}

/* The frequency cap at its edges: the MAX-th email in the window goes,
 * the next does not and is not counted; an email exactly PER after the
 * first is still within the window. */
static void test_cap(void)
{
    json_t *f = json_object();
    const int64_t h = 3600000, day = 24 * h;
    CHECK(customer_cap_take(f, NULL, 2, day, 0), "the first email");
    CHECK(customer_cap_take(f, NULL, 2, day, h), "the second, at the cap");
    CHECK(!customer_cap_take(f, NULL, 2, day, 2 * h), "the third, over it");
    CHECK_STR(json_string_value(json_object_get(f, "ce")), "0 3600000", "a capped email is not counted");
    CHECK(!customer_cap_take(f, NULL, 2, day, day), "a day after the first: it is still within the window");
    CHECK(customer_cap_take(f, NULL, 2, day, day + 1), "a millisecond later it is not");
    json_decref(f);
}

int main(void)
{
    test_cap();
    test_customer();
    test_local_clock();
    test_trait_merge();
    return harness_summary("test_customer");
}
