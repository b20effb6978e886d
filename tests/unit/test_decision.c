/* test_decision.c — one firing's rules (decision.h), as the daemon and
 * replay both apply them: the limit, the holdout and the goal's record,
 * the frequency cap, score and set, what the commit is told changed, and
 * what a goal converts. */
#include "customer.h"
#include "decision.h"
#include "harness.h"
#include "trigger.h"

static const int64_t T0 = 1793577600000LL, HOUR = 3600000LL;

static const char *field(json_t *fields, const char *name)
{
    return json_string_value(json_object_get(fields, name));
}

static struct trigger_set *load(void)
{
    struct errlist errs = {0};
    struct trigger_set *set = trigger_set_load_text(
        "d.json",
        "[{\"id\": \"lim\", \"on\": \"Visit\", \"limit\": {\"max\": 1, \"per\": \"1h\"}, \"actions\": ["
        "  {\"webhook\": {\"url\": \"https://crm.test/h\"}}, {\"score\": 5}, {\"set\": {\"traits.tier\": \"gold\"}}]},"
        " {\"id\": \"held\", \"on\": \"Visit\", \"holdout\": \"100%\","
        "  \"goal\": {\"event\": \"Order Completed\", \"within\": \"1d\"}, " HARNESS_HOOK "},"
        " {\"id\": \"mail\", \"on\": \"Visit\", \"actions\": [{\"email\": {\"to\": \"a@b.test\", \"subject\": \"Hi\","
        "  \"text\": \"Hello.\"}}]},"
        " {\"id\": \"bad\", \"on\": \"Visit\", \"transactional\": true, \"actions\": [{\"email\": {\"to\": "
        "\"a@b.test\","
        "  \"subject\": \"Hi\", \"html\": \"<a href=\\\"{{customer.traits.link}}\\\">go</a>\"}}]}]",
        &harness_files, &errs);
    CHECK(set != NULL, "the set loads: %s", errs.n ? errs.lines[0] : "");
    errlist_clear(&errs);
    return set;
}

static enum decision_kind decide(struct decision *d, const struct trigger *t, json_t *fields, json_t *before,
                                 int64_t now, int64_t cap_max)
{
    json_t *view = json_pack("{s:{s:s}}", "traits", "link", "javascript:alert(1)"); /* no link may be that */
    struct eval_ctx ctx = {NULL, view, NULL, NULL, now, NULL, NULL, NULL};
    struct decision_cap cap = {cap_max, 24 * HOUR};
    decision_make(d, t, "c1", fields, before, &ctx, now, &cap);
    json_decref(view);
    return d->kind;
}

/* A limit of one an hour: the first firing acts (score, set, its time
 * kept), the second within the hour is stopped and changes nothing, one
 * an hour later acts; BEFORE names every field a firing touched. */
static void test_limit_score_set(const struct trigger_set *set)
{
    const struct trigger *lim = trigger_set_find(set, "lim");
    json_t *f = json_object(), *before = json_object();
    struct decision d;
    CHECK(decide(&d, lim, f, before, T0, 0) == DECISION_ACTS, "the first firing acts");
    CHECK(d.n == 3 && d.out[0].kind == ACTION_WEBHOOK && d.err[0][0] == '\0', "its webhook is rendered");
    decision_clear(&d);
    CHECK_STR(field(f, "sc"), "5", "the score");
    CHECK_STR(field(f, "t:tier"), "\"gold\"", "the trait set");
    CHECK(field(f, "l:lim") != NULL, "the limit keeps its time");
    CHECK(json_is_null(json_object_get(before, "sc")) && json_is_null(json_object_get(before, "t:tier")) &&
              json_is_null(json_object_get(before, "l:lim")),
          "the commit is told each field was new");
    char *was = json_dumps(f, JSON_SORT_KEYS);
    CHECK(decide(&d, lim, f, NULL, T0 + HOUR - 1, 0) == DECISION_LIMITED, "the second within the hour is stopped");
    decision_clear(&d);
    char *now = json_dumps(f, JSON_SORT_KEYS);
    CHECK_STR(now, was, "a stopped firing changes nothing");
    free(was);
    free(now);
    CHECK(decide(&d, lim, f, NULL, T0 + HOUR + 1, 0) == DECISION_ACTS, "an hour later it acts again");
    decision_clear(&d);
    CHECK_STR(field(f, "sc"), "10", "the score twice");
    json_decref(f);
    json_decref(before);
}

struct seen {
    int n;
    bool held_out;
    char id[16];
};

static void on_converted(void *data, const char *id, size_t len, bool held_out)
{
    struct seen *s = data;
    s->n++;
    s->held_out = held_out;
    snprintf(s->id, sizeof s->id, "%.*s", (int)len, id);
}

/* A record whose window ended goes at the next goal event, converting
 * nothing. */
static void decide_again_and_end(json_t *f, const struct trigger *held, const char *hits, struct seen *s)
{
    struct decision d;
    decide(&d, held, f, NULL, T0 + 40 * HOUR, 0);
    decision_clear(&d);
    int before = s->n;
    decision_convert(f, NULL, hits, T0 + 65 * HOUR, on_converted, s);
    CHECK(s->n == before && json_object_get(f, MEASURE_PREFIX "held") == NULL, "an ended record goes unconverted");
}

/* A held-out firing acts not, but leaves its record; the goal within the
 * window converts it once, in the held-out arm; the record then goes. */
static void test_holdout_and_goal(const struct trigger_set *set)
{
    const struct trigger *held = trigger_set_find(set, "held");
    json_t *f = json_object(), *before = json_object();
    struct decision d;
    CHECK(decide(&d, held, f, before, T0, 0) == DECISION_HELD_OUT, "a 100%% holdout holds every customer out");
    CHECK(d.n == 0, "nothing is rendered for a held-out firing");
    decision_clear(&d);
    const char *rec = field(f, MEASURE_PREFIX "held");
    CHECK(rec && strncmp(rec, "h ", 2) == 0, "its record, in the held-out arm: %s", rec ? rec : "(none)");
    CHECK(json_is_null(json_object_get(before, MEASURE_PREFIX "held")), "the commit is told the record is new");
    char hits[MEASURE_GOAL_ID_LEN + 3];
    snprintf(hits, sizeof hits, " %s ", measure_goal_id(trigger_measure(held)));
    struct seen s = {0};
    decision_convert(f, NULL, hits, T0, on_converted, &s);
    CHECK(s.n == 0, "an order at the firing's moment is not after it");
    decision_convert(f, NULL, hits, T0 + HOUR, on_converted, &s);
    CHECK(s.n == 1 && s.held_out && strcmp(s.id, "held") == 0, "the order an hour later converts it, held out");
    CHECK(json_object_get(f, MEASURE_PREFIX "held") == NULL, "the converted record goes");
    decision_convert(f, NULL, hits, T0 + 2 * HOUR, on_converted, &s);
    CHECK(s.n == 1, "a firing converts once");
    /* a newer firing replaces the record: the window is the latest's */
    decision_clear(&d);
    decide(&d, held, f, NULL, T0, 0);
    decision_clear(&d);
    decide(&d, held, f, NULL, T0 + 20 * HOUR, 0);
    decision_clear(&d);
    decision_convert(f, NULL, hits, T0 + 30 * HOUR, on_converted, &s);
    CHECK(s.n == 2, "an order past the first firing's day but within the second's converts (once)");
    decide_again_and_end(f, held, hits, &s);
    json_decref(f);
    json_decref(before);
}

/* The frequency cap (one email a day): the first email goes, the second
 * is marked capped; a render error is kept with its action. */
static void test_cap_and_render_error(const struct trigger_set *set)
{
    const struct trigger *mail = trigger_set_find(set, "mail"), *bad = trigger_set_find(set, "bad");
    json_t *f = json_object();
    struct decision d;
    CHECK(decide(&d, mail, f, NULL, T0, 1) == DECISION_ACTS && d.ncapped == 0, "the first email goes");
    decision_clear(&d);
    CHECK(decide(&d, mail, f, NULL, T0 + HOUR, 1) == DECISION_ACTS && d.ncapped == 1 && d.capped[0],
          "the second within the day is capped");
    decision_clear(&d);
    CHECK(decide(&d, mail, f, NULL, T0 + 2 * HOUR, 0) == DECISION_ACTS && d.ncapped == 0, "no cap: it goes");
    decision_clear(&d);
    CHECK(decide(&d, bad, f, NULL, T0, 0) == DECISION_ACTS && d.n == 1 && d.err[0][0] != '\0' &&
              d.out[0].kind == ACTION_EMAIL,
          "an action that cannot be rendered keeps its kind and the reason");
    decision_clear(&d);
    json_decref(f);
}

int main(void)
{
    struct trigger_set *set = load();
    if (set) {
        test_limit_score_set(set);
        test_holdout_and_goal(set);
        test_cap_and_render_error(set);
        trigger_set_free(set);
    }
    return harness_summary("test_decision");
}
