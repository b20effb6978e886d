/* test_schedule.c — the schedule item: a waiting firing written and read
 * back as due.lua hands it over, a regroup, and entries that lack a member. */
#include "harness.h"
#include "schedule.h"

#include <stdlib.h>

/* What due.lua makes of a member: its members as fields, "due" added, the
 * event in a field of its own (left out of FIELDS). */
static json_t *as_timers_entry(const char *member, const char *due)
{
    json_t *f = json_loads(member, 0, NULL);
    json_object_del(f, SCHEDULE_EVENT_FIELD);
    json_object_set_new(f, "due", json_string(due));
    return f;
}

static void test_firing_round_trip(void)
{
    struct schedule_firing in = {"cart", "u1", "m-7", 1796169600123LL, true, "{\"type\":\"track\"}"};
    char *member = schedule_firing_item(&in), err[256];
    CHECK_STR(member,
              "{\"customer\":\"u1\",\"ets\":\"1796169600123\",\"event\":\"{\\\"type\\\":\\\"track\\\"}\",\"k\":\"t\","
              "\"mid\":\"m-7\",\"strict\":\"1\",\"trigger\":\"cart\"}",
              "the member, keys sorted: the same event and trigger make the same member");
    json_t *fields = as_timers_entry(member, "1796173200123");
    struct schedule_timer t;
    CHECK(schedule_read(fields, &t, err, sizeof err) == 0, "read: %s", err);
    CHECK(t.kind == SCHEDULE_FIRING && t.firing.ets == in.ets && t.firing.strict, "kind, ets, strict");
    CHECK_STR(t.firing.trigger, "cart", "trigger");
    CHECK_STR(t.firing.customer, "u1", "customer");
    CHECK_STR(t.firing.mid, "m-7", "mid");
    json_object_del(fields, "mid");
    CHECK(schedule_read(fields, &t, err, sizeof err) == -1 && strstr(err, "without trigger, customer, mid"),
          "no mid: %s", err);
    json_decref(fields);
    free(member);
}

static void test_regroup(void)
{
    char err[256];
    struct schedule_timer t;
    json_t *fields = as_timers_entry("{\"customer\":\"ann\",\"k\":\"g\"}", "1796169600001");
    CHECK(schedule_read(fields, &t, err, sizeof err) == 0 && t.kind == SCHEDULE_REGROUP && t.due == 1796169600001LL,
          "regroup: %s", err);
    CHECK_STR(t.customer, "ann", "regroup customer");
    json_object_set_new(fields, "due", json_string("soon"));
    CHECK(schedule_read(fields, &t, err, sizeof err) == -1 && strstr(err, "regroup"), "a due that is no time: %s", err);
    json_decref(fields);
}

static void test_silence(void)
{
    char *member = schedule_trigger_item(SCHEDULE_SILENCE, "we-miss-you", "u1"), err[256];
    CHECK_STR(member, "{\"customer\":\"u1\",\"k\":\"s\",\"trigger\":\"we-miss-you\"}",
              "one member per trigger and customer: arming again moves it");
    json_t *fields = as_timers_entry(member, "1796169600000");
    struct schedule_timer t;
    CHECK(schedule_read(fields, &t, err, sizeof err) == 0 && t.kind == SCHEDULE_SILENCE && t.due == 1796169600000LL,
          "silence: %s", err);
    CHECK_STR(t.trigger, "we-miss-you", "silence trigger");
    CHECK_STR(t.customer, "u1", "silence customer");
    json_object_del(fields, "trigger");
    CHECK(schedule_read(fields, &t, err, sizeof err) == -1 && strstr(err, "silence"), "no trigger: %s", err);
    json_decref(fields);
    free(member);
}

int main(void)
{
    test_silence();
    test_firing_round_trip();
    test_regroup();
    return harness_summary("test_schedule");
}
