/* test_trigger.c — trigger files: the exact error texts, matching, quiet hours. */
#include "errlist.h"
#include "harness.h"
#include "message.h"
#include "trigger.h"

static const struct {
    const char *name, *text, *want;
} error_cases[] = {
    {"bad JSON with line:col", "{\n  \"id\": \"a\",\n  \"on\": \"X\"\n  \"actions\": []\n}",
     "t.json:4:11: '}' expected near '\"actions\"'"},
    {"unknown key with a hint", "{\"id\": \"a\", \"on\": \"X\", \"wehre\": {}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": wehre: unknown key (did you mean \"where\"?)"},
    {"unknown key without a hint", "{\"id\": \"a\", \"on\": \"X\", \"colour\": 1, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": colour: unknown key; a trigger has id, description, enabled, on, where, if, unless, "
     "delay, limit, quiet_hours, actions, goal, holdout, transactional"},
    {"a tier that is none", "{\"id\": \"a\", \"on\": {\"value_tier\": \"gold\"}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": on.value_tier: \"gold\" is not a tier: top or regular"},
    {"transactional as a word", "{\"id\": \"a\", \"on\": \"X\", \"transactional\": \"yes\", " HARNESS_HOOK "}",
     "t.json: trigger \"a\": transactional: must be true (an order confirmation, a password mail: never capped) or "
     "false"},
    {"a holdout that is not a share", "{\"id\": \"a\", \"on\": \"X\", \"holdout\": \"ten\", " HARNESS_HOOK "}",
     "t.json: trigger \"a\": holdout: \"ten\" is not a share: write a percentage from \"0%\" to \"100%\", such as "
     "\"10%\""},
    {"a holdout over 100 %", "{\"id\": \"a\", \"on\": \"X\", \"holdout\": \"120%\", " HARNESS_HOOK "}",
     "t.json: trigger \"a\": holdout: \"120%\" is not a share"},
    {"a holdout as a number", "{\"id\": \"a\", \"on\": \"X\", \"holdout\": 0.1, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": holdout: needs a share as a string, such as \"10%\""},
    {"a goal without event", "{\"id\": \"a\", \"on\": \"X\", \"goal\": {\"within\": \"3d\"}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": goal.event: is required: the event name to count"},
    {"a goal without window",
     "{\"id\": \"a\", \"on\": \"X\", \"goal\": {\"event\": \"Order Completed\"}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": goal.within: is required: a duration such as \"7d\""},
    {"a goal with a bad window",
     "{\"id\": \"a\", \"on\": \"X\", \"goal\": {\"event\": \"O\", \"within\": \"3x\"}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": goal.within: needs a duration such as"},
    {"a goal on the customer",
     "{\"id\": \"a\", \"on\": \"X\", \"goal\": {\"event\": \"O\", \"within\": \"3d\", \"where\": "
     "{\"customer.group\": \"active\"}}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": goal.where.customer.group: where is about the event"},
    {"a goal with an unknown key",
     "{\"id\": \"a\", \"on\": \"X\", \"goal\": {\"event\": \"O\", \"within\": \"3d\", \"whithin\": 1}, " HARNESS_HOOK
     "}",
     "t.json: trigger \"a\": goal.whithin: unknown key (did you mean \"within\"?)"},
    {"wrong type", "{\"id\": \"a\", \"on\": \"X\", \"enabled\": \"yes\", " HARNESS_HOOK "}",
     "t.json: trigger \"a\": enabled: must be true or false"},
    {"wrong type of on", "{\"id\": \"a\", \"on\": 5, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": on: must be an event name, \"page\", \"screen\", \"identify\", {\"event\": NAME}, "
     "{\"page\": PATH_GLOB}, {\"group\": GROUP}, {\"value_tier\": TIER}, {\"silence\": DURATION} or "
     "{\"date\": PATH}"},
    {"unknown group", "{\"id\": \"a\", \"on\": {\"group\": \"inactiv\"}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": on.group: \"inactiv\" is not a group (did you mean \"inactive\"?); groups are active, "
     "inactive, potential, interested, excluded"},
    {"bad delay", "{\"id\": \"a\", \"on\": \"X\", \"delay\": \"1 week\", " HARNESS_HOOK "}",
     "t.json: trigger \"a\": delay: needs a duration such as \"30s\", \"10m\", \"1h\", \"7d\" or \"1h30m\""},
    {"unless without within",
     "{\"id\": \"a\", \"on\": \"X\", \"unless\": {\"event\": \"Order Completed\"}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": unless.within: is required: a duration such as \"7d\""},
    {"unless with a typo",
     "{\"id\": \"a\", \"on\": \"X\", \"unless\": {\"evnt\": \"Y\", \"within\": \"1h\"}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": unless.evnt: unknown key (did you mean \"event\"?); it has event, where, within"},
    {"bad limit", "{\"id\": \"a\", \"on\": \"X\", \"limit\": {\"max\": 0, \"per\": \"1d\"}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": limit: needs {\"max\": N, \"per\": DURATION} with N from 1 to 100"},
    {"bad quiet hours",
     "{\"id\": \"a\", \"on\": \"X\", \"quiet_hours\": {\"from\": \"22h\", \"to\": \"08:00\"}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": quiet_hours: needs {\"from\": \"HH:MM\", \"to\": \"HH:MM\"}"},
    {"count without comparison",
     "{\"id\": \"a\", \"on\": \"X\", \"if\": {\"count\": {\"event\": \"Y\", \"within\": \"7d\"}}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": if: a count needs a comparison, such as \"gte\": 3"},
    {"count with a bad operator",
     "{\"id\": \"a\", \"on\": \"X\", \"if\": {\"count\": {\"event\": \"Y\", \"within\": \"7d\"}, \"in\": "
     "[1]}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": if.in: a count is compared with eq, ne, gt, gte, lt or lte and a number"},
    {"count in where",
     "{\"id\": \"a\", \"on\": \"X\", \"where\": {\"count\": {\"event\": \"Y\", \"within\": \"7d\"}, \"gte\": "
     "1}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": where.count: counts are about the customer: put them in if"},
    {"customer in a count's where",
     "{\"id\": \"a\", \"on\": \"X\", \"if\": {\"count\": {\"event\": \"Y\", \"within\": \"7d\", \"where\": "
     "{\"customer.score\": 1}}, \"gte\": 1}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": if.count.where.customer.score: where is about the event"},
    {"missing text_file",
     "{\"id\": \"a\", \"on\": \"X\", \"actions\": [{\"email\": {\"to\": \"{{customer.traits.email}}\", \"subject\": "
     "\"Hi\", \"text_file\": \"templates/nope.txt\"}}]}",
     "t.json: trigger \"a\": actions[0].email.text_file: cannot read \"./templates/nope.txt\" (it must exist and be at "
     "most 256 KiB)"},
    {"email without body",
     "{\"id\": \"a\", \"on\": \"X\", \"actions\": [{\"email\": {\"to\": \"x@y.test\", \"subject\": \"Hi\"}}]}",
     "t.json: trigger \"a\": actions[0].email: needs a body: text, text_file, html or html_file"},
    {"email without to",
     "{\"id\": \"a\", \"on\": \"X\", \"actions\": [{\"email\": {\"subject\": \"Hi\", \"text\": \"x\"}}]}",
     "t.json: trigger \"a\": actions[0].email.to: is required"},
    {"email unknown key",
     "{\"id\": \"a\", \"on\": \"X\", \"actions\": [{\"email\": {\"to\": \"x@y.test\", \"subjet\": \"Hi\", \"text\": "
     "\"x\"}}]}",
     "t.json: trigger \"a\": actions[0].email.subjet: unknown key (did you mean \"subject\"?)"},
    {"score not whole", "{\"id\": \"a\", \"on\": \"X\", \"actions\": [{\"score\": 2.5}]}",
     "t.json: trigger \"a\": actions[0].score: needs whole points to add, such as 10 or -5"},
    {"set a computed group", "{\"id\": \"a\", \"on\": \"X\", \"actions\": [{\"set\": {\"group\": \"active\"}}]}",
     "t.json: trigger \"a\": actions[0].set.group: only \"excluded\" can be set"},
    {"set a nested trait", "{\"id\": \"a\", \"on\": \"X\", \"actions\": [{\"set\": {\"plan\": \"gold\"}}]}",
     "t.json: trigger \"a\": actions[0].set.plan: can set traits.NAME (one level) or group"},
    {"unknown operator",
     "{\"id\": \"a\", \"on\": \"X\", \"where\": {\"properties.price\": {\"gtee\": 5}}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": where.properties.price.gtee: unknown operator \"gtee\" (did you mean \"gte\"?); "
     "operators are eq ne gt gte lt lte in nin exists contains prefix glob regex within before"},
    {"bad regex", "{\"id\": \"a\", \"on\": \"X\", \"if\": {\"customer.id\": {\"regex\": \"(\"}}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": if.customer.id.regex: is not a valid regular expression: "},
    {"bad duration",
     "{\"id\": \"a\", \"on\": \"X\", \"if\": {\"customer.last_seen\": {\"within\": \"3 days\"}}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": if.customer.last_seen.within: needs a duration such as \"30s\", \"10m\", \"1h\", \"7d\" "
     "or \"1h30m\""},
    {"unknown root", "{\"id\": \"a\", \"on\": \"X\", \"where\": {\"order.total\": 5}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": where.order.total: \"order\" is not a known root: a path starts with event, properties, "
     "customer, trigger or now"},
    {"silence not a duration", "{\"id\": \"a\", \"on\": {\"silence\": \"3x\"}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": on.silence: \"3x\" is not a duration: write one such as \"30d\" or \"12h\""},
    {"silence with a where",
     "{\"id\": \"a\", \"on\": {\"silence\": \"60d\"}, \"where\": {\"properties.x\": 1}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": where: a silence or date trigger has no event to test or to wait for: put conditions on "
     "the customer in if, and move the moment with the silence or the date's offset instead"},
    {"date not a trait", "{\"id\": \"a\", \"on\": {\"date\": \"traits.birthday\"}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": on.date: PATH must start with customer.traits. and name one trait, such as "
     "customer.traits.birthday"},
    {"date at no time", "{\"id\": \"a\", \"on\": {\"date\": \"customer.traits.b\", \"at\": \"9am\"}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": on.at: needs a time of day such as \"09:00\" (24-hour clock)"},
    {"date offset no duration",
     "{\"id\": \"a\", \"on\": {\"date\": \"customer.traits.b\", \"offset\": \"-3x\"}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": on.offset: needs a duration such as \"3d\", or \"-3d\" for before"},
    {"date every month",
     "{\"id\": \"a\", \"on\": {\"date\": \"customer.traits.b\", \"every\": \"month\"}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": on.every: can only be \"year\""},
    {"silence with an unknown key",
     "{\"id\": \"a\", \"on\": {\"silence\": \"60d\", \"evnt\": \"X\"}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": on.evnt: unknown key (did you mean \"event\"?); a silence has silence, event"},
    {"unknown part of the local clock",
     "{\"id\": \"a\", \"on\": \"X\", \"if\": {\"customer.local.minute\": 5}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": if.customer.local.minute: customer.local has hour, weekday and date: write "
     "customer.local.hour, for instance"},
    {"the local clock in a template",
     "{\"id\": \"a\", \"on\": \"X\", \"actions\": [{\"webhook\": {\"url\": \"https://x.test/\", \"body\": "
     "{\"n\": \"{{customer.local}}\"}}}]}",
     "t.json: trigger \"a\": actions[0].webhook.body.n: customer.local has hour, weekday and date: write "
     "customer.local.hour, for instance"},
    {"unclosed template",
     "{\"id\": \"a\", \"on\": \"X\", \"actions\": [{\"webhook\": {\"url\": \"https://x.test/{{customer.id\"}}]}",
     "t.json: trigger \"a\": actions[0].webhook.url: unclosed {{ at \"{{customer.id\": close it with }}"},
    {"unknown filter",
     "{\"id\": \"a\", \"on\": \"X\", \"actions\": [{\"webhook\": {\"url\": \"https://x.test/\", \"body\": {\"n\": "
     "\"{{customer.id | shout}}\"}}}]}",
     "t.json: trigger \"a\": actions[0].webhook.body.n: unknown filter \"shout\": filters are upcase, downcase, "
     "capitalize, url_encode and default: \"text\""},
    {"template in host",
     "{\"id\": \"a\", \"on\": \"X\", \"actions\": [{\"webhook\": {\"url\": \"https://{{customer.id}}.test/\"}}]}",
     "t.json: trigger \"a\": actions[0].webhook.url: templates may only stand in the path and query of a URL, not in "
     "its scheme or host"},
    {"action with two kinds", "{\"id\": \"a\", \"on\": \"X\", \"actions\": [{\"webhook\": {}, \"email\": {}}]}",
     "t.json: trigger \"a\": actions[0]: an action is an object with exactly one kind: webhook, email, score or set"},
    {"action with no kind", "{\"id\": \"a\", \"on\": \"X\", \"actions\": [{}]}",
     "t.json: trigger \"a\": actions[0]: an action is an object with exactly one kind: webhook, email, score or set"},
    {"no actions", "{\"id\": \"a\", \"on\": \"X\"}",
     "t.json: trigger \"a\": actions: needs a list of one or more actions"},
    {"bad id", "{\"id\": \"Big Id\", \"on\": \"X\", " HARNESS_HOOK "}",
     "t.json: [0]: id is required: lower-case letters, digits, _ and -, starting with a letter or digit, at most 64 "
     "characters"},
    {"bad secret",
     "{\"id\": \"a\", \"on\": \"X\", \"actions\": [{\"webhook\": {\"url\": \"https://x.test/\", \"secret\": "
     "\"hunter2\"}}]}",
     "t.json: trigger \"a\": actions[0].webhook.secret: must be a Standard Webhooks secret: whsec_ followed by base64"},
    {"duplicate id in one file",
     "[{\"id\": \"a\", \"on\": \"X\", " HARNESS_HOOK "}, {\"id\": \"a\", \"on\": \"Y\", " HARNESS_HOOK "}]",
     "t.json: trigger \"a\": id: the id is already used in t.json"},
    {"customer in where",
     "{\"id\": \"a\", \"on\": \"X\", \"where\": {\"customer.group\": \"active\"}, " HARNESS_HOOK "}",
     "t.json: trigger \"a\": where.customer.group: where is about the event; put conditions on the customer in if"},
    {"bad method",
     "{\"id\": \"a\", \"on\": \"X\", \"actions\": [{\"webhook\": {\"url\": \"https://x.test/\", \"method\": "
     "\"GET\"}}]}",
     "t.json: trigger \"a\": actions[0].webhook.method: must be POST, PUT or PATCH"},
};

static void test_trigger_errors(void)
{
    for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
        struct errlist errs = {0};
        struct trigger_set *set = trigger_set_load_text("t.json", error_cases[i].text, &harness_files, &errs);
        CHECK(set == NULL, "%s: should not load", error_cases[i].name);
        int found = 0;
        for (size_t k = 0; k < errs.n; k++)
            if (strncmp(errs.lines[k], error_cases[i].want, strlen(error_cases[i].want)) == 0)
                found = 1;
        CHECK(found, "%s: want \"%s\", got \"%s\"", error_cases[i].name, error_cases[i].want,
              errs.n ? errs.lines[0] : "(no error)");
        trigger_set_free(set);
        errlist_clear(&errs);
    }
}

/* Every problem is reported, not just the first. */
static void test_all_errors_reported(void)
{
    struct errlist errs = {0};
    const char *text = "{\"id\": \"a\", \"on\": \"X\", \"wehre\": {}, \"if\": {\"customer.x\": {\"bogus\": 1}},"
                       " \"actions\": [{\"webhook\": {\"url\": \"ftp://x\"}}]}";
    struct trigger_set *set = trigger_set_load_text("t.json", text, &harness_files, &errs);
    CHECK(set == NULL && errs.n == 3, "three problems, got %zu", errs.n);
    errlist_clear(&errs);
}

static void test_matching(void)
{
    struct errlist errs = {0};
    const char *text = "[{\"id\": \"order\", \"on\": \"Order Completed\", \"where\": {\"properties.total\": {\"gte\": "
                       "20}}, " HARNESS_HOOK "},"
                       " {\"id\": \"pricing\", \"on\": {\"page\": \"/pricing*\"}, " HARNESS_HOOK "},"
                       " {\"id\": \"any-page\", \"on\": \"page\", " HARNESS_HOOK "},"
                       " {\"id\": \"ident\", \"on\": \"identify\", \"if\": {\"customer.traits.email\": {\"exists\": "
                       "true}}, " HARNESS_HOOK "},"
                       " {\"id\": \"off\", \"on\": \"Order Completed\", \"enabled\": false, " HARNESS_HOOK "}]";
    struct trigger_set *set = trigger_set_load_text("t.json", text, &harness_files, &errs);
    CHECK(set && trigger_set_count(set) == 5, "five triggers load");
    static const struct {
        const char *msg, *cust, *want;
    } cases[] = {
        {"{\"type\":\"track\",\"userId\":\"u\",\"event\":\"Order Completed\",\"properties\":{\"total\":25}}", "{}",
         "order"},
        {"{\"type\":\"track\",\"userId\":\"u\",\"event\":\"Order Completed\",\"properties\":{\"total\":5}}", "{}", ""},
        {"{\"type\":\"page\",\"userId\":\"u\",\"properties\":{\"path\":\"/pricing/pro\"}}", "{}", "pricing any-page"},
        {"{\"type\":\"page\",\"userId\":\"u\",\"properties\":{\"path\":\"/blog\"}}", "{}", "any-page"},
        {"{\"type\":\"identify\",\"userId\":\"u\"}", "{\"traits\":{\"email\":\"e@x.test\"}}", "ident"},
        {"{\"type\":\"identify\",\"userId\":\"u\"}", "{\"traits\":{}}", ""},
    };
    for (size_t i = 0; set && i < sizeof cases / sizeof cases[0]; i++) {
        json_t *ev = json_loads(cases[i].msg, 0, NULL), *cu = json_loads(cases[i].cust, 0, NULL);
        struct message m;
        char err[128], got[128] = "";
        CHECK(message_validate(ev, "1-0", 0, &m, err, sizeof err) == 0, "case %zu valid", i);
        struct eval_ctx ctx = {ev, cu, NULL, NULL, 0, NULL, NULL, NULL};
        const struct trigger *out[8];
        size_t n = trigger_set_match(set, &m, &ctx, out, 8);
        for (size_t k = 0; k < n; k++) {
            if (k)
                strcat(got, " ");
            strcat(got, trigger_id(out[k]));
        }
        CHECK_STR(got, cases[i].want, "matching");
        json_decref(ev);
        json_decref(cu);
    }
    trigger_set_free(set);
    errlist_clear(&errs);
}

/* Quiet hours: inside, outside, across midnight, at the edges, and in the
 * customer's own clock. 2026-11-02T00:00:00Z is 1793577600000. */
static void test_quiet_hours(void)
{
    struct errlist errs = {0};
    struct trigger_set *set = trigger_set_load_text(
        "q.json",
        "[{\"id\": \"night\", \"on\": \"X\", \"quiet_hours\": {\"from\": \"22:00\", \"to\": \"08:00\"}, " HARNESS_HOOK
        "},"
        " {\"id\": \"lunch\", \"on\": \"X\", \"quiet_hours\": {\"from\": \"12:00\", \"to\": \"13:30\"}, " HARNESS_HOOK
        "},"
        " {\"id\": \"none\", \"on\": \"X\", " HARNESS_HOOK "}]",
        &harness_files, &errs);
    CHECK(set != NULL, "quiet hours load: %s", errs.n ? errs.lines[0] : "");
    if (set == NULL)
        return;
    const int64_t midnight = 1793577600000LL, h = 3600000, m = 60000;
    const struct trigger *night = trigger_set_find(set, "night"), *lunch = trigger_set_find(set, "lunch"),
                         *none = trigger_set_find(set, "none");
    static const struct {
        int which;
        int64_t at;
        int32_t off;
        int64_t want;
    } cases[] = {
        {0, 23 * 3600000LL, 0, 32 * 3600000LL},                 /* 23:00 waits until 08:00 the next day */
        {0, 3 * 3600000LL, 0, 8 * 3600000LL},                   /* 03:00 waits until 08:00 */
        {0, 8 * 3600000LL, 0, 8 * 3600000LL},                   /* 08:00 is free: "to" is not quiet */
        {0, 22 * 3600000LL - 60000, 0, 22 * 3600000LL - 60000}, /* 21:59 is free */
        {0, 22 * 3600000LL, 0, 32 * 3600000LL},                 /* 22:00 is quiet: "from" is */
        {0, 21 * 3600000LL, 3600, 31 * 3600000LL},  /* 21:00Z is 22:00 in Amsterdam (winter): until 07:00Z */
        {0, 6 * 3600000LL, -18000, 13 * 3600000LL}, /* 06:00Z is 01:00 in New York: until 13:00Z */
        {1, 12 * 3600000LL + 45 * 60000LL, 0, 13 * 3600000LL + 30 * 60000LL},
        {1, 14 * 3600000LL, 0, 14 * 3600000LL},
        {2, 23 * 3600000LL, 0, 23 * 3600000LL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct trigger *t = cases[i].which == 0 ? night : cases[i].which == 1 ? lunch : none;
        int64_t got = trigger_quiet_until(t, midnight + cases[i].at, cases[i].off);
        CHECK(got == midnight + cases[i].want, "quiet case %zu: want +%lldmin, got +%lldmin", i,
              (long long)(cases[i].want / m), (long long)((got - midnight) / m));
    }
    (void)h;
    trigger_set_free(set);
}

/* Triggers may share goals; more than TRIGGER_GOALS_MAX different ones is
 * an error that says so, not goals left out. */
static void test_goal_limit(void)
{
    for (int extra = 0; extra <= 1; extra++) {
        char text[64 * 1024];
        size_t at = 0;
        int n = TRIGGER_GOALS_MAX + extra;
        at += (size_t)snprintf(text + at, sizeof text - at, "[");
        for (int i = 0; i < n; i++)
            at += (size_t)snprintf(text + at, sizeof text - at,
                                   "%s{\"id\": \"t%d\", \"on\": \"X\", \"goal\": {\"event\": \"G%d\", \"within\": "
                                   "\"1d\"}, " HARNESS_HOOK "}",
                                   i ? ", " : "", i, i);
        snprintf(text + at, sizeof text - at, "]");
        struct errlist errs = {0};
        struct trigger_set *set = trigger_set_load_text("t.json", text, &harness_files, &errs);
        if (extra == 0) {
            CHECK(set != NULL, "%d different goals load", n);
        } else {
            CHECK(set == NULL && errs.n == 1, "%d different goals are refused", n);
            if (errs.n)
                CHECK_STR(errs.lines[0],
                          "t.json: 65 different goals (event and where) over all triggers; at most 64: let triggers "
                          "share goals",
                          "the error");
        }
        trigger_set_free(set);
        errlist_clear(&errs);
    }
}

/* A silence of exactly its DURATION: armed by an event at T, it comes due
 * at T + DURATION and holds while that event is the customer's last of
 * its name; an event after it (even at the due moment itself) ends it. */
static void test_silence_edges(void)
{
    struct errlist errs = {0};
    struct trigger_set *set = trigger_set_load_text(
        "t.json", "{\"id\": \"q\", \"on\": {\"silence\": \"1h\", \"event\": \"Visit\"}, " HARNESS_HOOK "}",
        &harness_files, &errs);
    const struct trigger *t = trigger_set_find(set, "q");
    const int64_t at = 1000000, hour = 3600000;
    struct message visit = {MESSAGE_TRACK, "c", "m1", "Visit", at, NULL};
    struct message other = {MESSAGE_TRACK, "c", "m2", "Ping", at, NULL};
    CHECK(t && trigger_silence_due(t, &visit) == at + hour, "due exactly an hour after the visit");
    CHECK(t && trigger_silence_due(t, &other) == -1, "another event does not arm it");
    json_t *fields = json_pack("{s:s}", "e:Visit", "1 1000000 1000000");
    CHECK(t && trigger_silence_holds(t, fields, at + hour), "the visit is still the last: it fires");
    json_object_set_new(fields, "e:Visit", json_string("2 1000000 3601000"));
    CHECK(t && !trigger_silence_holds(t, fields, at + hour), "a visit at the due moment ended it");
    json_object_set_new(fields, "e:Visit", json_string("2 1000000 1000001"));
    CHECK(t && !trigger_silence_holds(t, fields, at + hour), "a visit a millisecond later ended it");
    json_decref(fields);
    trigger_set_free(set);
    errlist_clear(&errs);
}

int main(void)
{
    test_silence_edges();
    test_goal_limit();
    test_trigger_errors();
    test_all_errors_reported();
    test_matching();
    test_quiet_hours();
    return harness_summary("test_trigger");
}
