/* test_triggers.c — the pure trigger code: messages, durations, conditions,
 * templates and trigger-file errors, as tables of named cases. */
#include "cond.h"
#include "counter.h"
#include "customer.h"
#include "duration.h"
#include "harness.h"
#include "jparse.h"
#include "message.h"
#include "path.h"
#include "template.h"
#include "trigger.h"

#include <stdlib.h>
#include <time.h>

/* --- messages ------------------------------------------------------------ */

static const struct {
    const char *name, *json, *error; /* error: NULL when valid, else a substring of the reason */
} message_cases[] = {
    {"track", "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Order Completed\"}", NULL},
    {"page anonymous", "{\"type\":\"page\",\"anonymousId\":\"a1\",\"properties\":{\"path\":\"/x\"}}", NULL},
    {"identify", "{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":{\"email\":\"a@b.c\"}}", NULL},
    {"alias", "{\"type\":\"alias\",\"userId\":\"u1\",\"previousId\":\"a1\"}", NULL},
    {"timestamp offset",
     "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"X\",\"timestamp\":\"2026-01-02T03:04:05.678+01:00\"}", NULL},
    {"not an object", "[1]", "must be a JSON object"},
    {"no type", "{\"userId\":\"u\"}", "type is missing"},
    {"unknown type", "{\"type\":\"shout\",\"userId\":\"u\"}", "type \"shout\" is unknown"},
    {"no ids", "{\"type\":\"track\",\"event\":\"X\"}", "needs userId or anonymousId"},
    {"empty userId", "{\"type\":\"track\",\"userId\":\"\",\"event\":\"X\"}", "userId must be a non-empty string"},
    {"numeric userId", "{\"type\":\"track\",\"userId\":7,\"event\":\"X\"}", "userId must be a non-empty string"},
    {"track without event", "{\"type\":\"track\",\"userId\":\"u\"}", "needs event"},
    {"properties not object", "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"X\",\"properties\":3}",
     "properties must be an object"},
    {"traits not object", "{\"type\":\"identify\",\"userId\":\"u\",\"traits\":\"x\"}", "traits must be an object"},
    {"context not object", "{\"type\":\"page\",\"userId\":\"u\",\"context\":[]}", "context must be an object"},
    {"bad timestamp", "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"X\",\"timestamp\":\"2026-13-01T00:00:00Z\"}",
     "ISO-8601"},
    {"alias without previousId", "{\"type\":\"alias\",\"userId\":\"u\"}", "needs previousId"},
    {"bad messageId", "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"X\",\"messageId\":[]}", "messageId must be"},
};

static void test_messages(void)
{
    for (size_t i = 0; i < sizeof message_cases / sizeof message_cases[0]; i++) {
        json_t *j = json_loads(message_cases[i].json, JSON_DECODE_ANY, NULL);
        struct message m;
        char err[256] = "";
        int rc = message_validate(j, "1-0", 1000, &m, err, sizeof err);
        if (message_cases[i].error == NULL)
            CHECK(rc == 0, "%s: should be valid, got \"%s\"", message_cases[i].name, err);
        else
            CHECK(rc == -1 && strstr(err, message_cases[i].error), "%s: got \"%s\", want \"%s\"", message_cases[i].name,
                  err, message_cases[i].error);
        json_decref(j);
    }
    /* 257 bytes of userId is one too many. */
    char big[400];
    memset(big, 'x', 257);
    big[257] = '\0';
    json_t *j = json_pack("{s:s, s:s, s:s}", "type", "track", "userId", big, "event", "X");
    struct message m;
    char err[256];
    CHECK(message_validate(j, "1-0", 0, &m, err, sizeof err) == -1 && strstr(err, "at most 256"), "257-byte id");
    json_decref(j);
    /* Defaults: messageId from the entry id, timestamp from now; the customer is the userId. */
    j = json_loads("{\"type\":\"track\",\"anonymousId\":\"a\",\"userId\":\"u\",\"event\":\"X\"}", 0, NULL);
    CHECK(message_validate(j, "5-1", 86400000, &m, err, sizeof err) == 0, "defaults");
    CHECK_STR(m.message_id, "5-1", "default messageId");
    CHECK_STR(m.customer, "u", "userId wins over anonymousId");
    CHECK_STR(json_string_value(json_object_get(j, "timestamp")), "1970-01-02T00:00:00.000Z", "default timestamp");
    json_decref(j);
    int64_t ms;
    CHECK(message_parse_time("2026-01-02T03:04:05.678+01:00", &ms) == 0 && ms == 1767319445678LL, "offset: %lld",
          (long long)ms);
    CHECK(message_parse_time("2026-01-02", &ms) == -1, "a date alone is not a timestamp");
    static const char *const impossible[] = {"2026-02-31T00:00:00Z", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
                                             "0000-01-01T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z"};
    for (size_t i = 0; i < sizeof impossible / sizeof impossible[0]; i++)
        CHECK(message_parse_time(impossible[i], &ms) == -1, "%s is no time", impossible[i]);
    CHECK(message_parse_time("2024-02-29T00:00:00Z", &ms) == 0, "29 February of a leap year");
}

/* --- durations ----------------------------------------------------------- */

/* The arithmetic ISO-8601 formatter against gmtime_r + strftime, over
 * leap days, the epoch, times before it, and a spread of 100,000 instants
 * from 1900 to 9999; and its round trip through message_parse_time. */
static void test_format_time(void)
{
    static const int64_t fixed[] = {
        0, -1, -1000, -86400001, 951782400000, 951868799999, 1795394918333, 253402300799999, -2208988800000};
    size_t bad = 0;
    for (size_t i = 0; i < 100000 + sizeof fixed / sizeof fixed[0]; i++) {
        int64_t ms = i < sizeof fixed / sizeof fixed[0]
                         ? fixed[i]
                         : -2208988800000 + (int64_t)(i * 2534023007999ULL % 255611289599999ULL);
        char got[40], want[40];
        message_format_time(ms, got, sizeof got);
        time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        size_t n = strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(want + n, sizeof want - n, ".%03dZ", (int)(ms - (int64_t)secs * 1000));
        int64_t back = 0;
        if (strcmp(got, want) != 0 || message_parse_time(got, &back) != 0 || back != ms) {
            if (bad++ < 3)
                CHECK(false, "%lld: %s, not %s (back %lld)", (long long)ms, got, want, (long long)back);
        }
    }
    CHECK(bad == 0, "%zu instants formatted wrong", bad);
}

static void test_durations(void)
{
    static const struct {
        const char *s;
        int64_t ms;
    } ok[] = {
        {"30s", 30000},     {"10m", 600000}, {"1h", 3600000},        {"7d", 604800000},
        {"1h30m", 5400000}, {"250ms", 250},  {"1d2h3m4s", 93784000}, {"2w", 1209600000},
    };
    static const char *const bad[] = {"", "10", "h", "1x", "1h-", "-1h", "1.5h", "99999999999999d"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t ms = -1;
        CHECK(duration_parse(ok[i].s, &ms) == 0 && ms == ok[i].ms, "%s: %lld", ok[i].s, (long long)ms);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms;
        CHECK(duration_parse(bad[i], &ms) == -1, "\"%s\" should be refused", bad[i]);
    }
}

/* --- conditions ---------------------------------------------------------- */

static const char *const EVENT =
    "{\"type\":\"track\",\"event\":\"Order Completed\",\"properties\":{\"price\":25,\"total\":20.0,"
    "\"path\":\"/pricing/pro\",\"tags\":[\"a\",\"b\"],\"name\":\"Blue Shoe\"}}";
static const char *const CUSTOMER =
    "{\"id\":\"u1\",\"group\":\"active\",\"traits\":{\"email\":\"z@example.com\",\"vip\":true},"
    "\"last_seen\":\"2026-11-22T09:00:00Z\",\"events\":{\"Order Completed\":{\"count\":3}}}";
#define NOW_MS 1795341600000LL /* 2026-11-22T10:00:00Z */

static const struct {
    const char *name, *cond;
    int want;
} cond_cases[] = {
    {"literal equality", "{\"properties.price\": 25}", 1},
    {"int equals real", "{\"properties.total\": 20}", 1},
    {"eq", "{\"event.event\": {\"eq\": \"Order Completed\"}}", 1},
    {"ne", "{\"properties.price\": {\"ne\": 25}}", 0},
    {"ne on absent holds", "{\"properties.nothing\": {\"ne\": 1}}", 1},
    {"gt", "{\"properties.price\": {\"gt\": 24}}", 1},
    {"gt edge", "{\"properties.price\": {\"gt\": 25}}", 0},
    {"gte edge", "{\"properties.price\": {\"gte\": 25}}", 1},
    {"lt", "{\"properties.price\": {\"lt\": 25}}", 0},
    {"lte edge", "{\"properties.price\": {\"lte\": 25}}", 1},
    {"range", "{\"properties.price\": {\"gte\": 20, \"lt\": 30}}", 1},
    {"string order", "{\"properties.name\": {\"gt\": \"Apple\"}}", 1},
    {"number vs string never orders", "{\"properties.price\": {\"gt\": \"1\"}}", 0},
    {"in", "{\"customer.group\": {\"in\": [\"active\", \"potential\"]}}", 1},
    {"in miss", "{\"customer.group\": {\"in\": [\"inactive\"]}}", 0},
    {"nin", "{\"customer.group\": {\"nin\": [\"excluded\"]}}", 1},
    {"exists", "{\"customer.traits.email\": {\"exists\": true}}", 1},
    {"exists false on absent", "{\"customer.traits.phone\": {\"exists\": false}}", 1},
    {"exists on absent", "{\"customer.traits.phone\": {\"exists\": true}}", 0},
    {"contains substring", "{\"properties.name\": {\"contains\": \"Shoe\"}}", 1},
    {"contains in array", "{\"properties.tags\": {\"contains\": \"b\"}}", 1},
    {"contains miss", "{\"properties.tags\": {\"contains\": \"c\"}}", 0},
    {"prefix", "{\"properties.path\": {\"prefix\": \"/pricing\"}}", 1},
    {"glob", "{\"properties.path\": {\"glob\": \"/pricing/*\"}}", 1},
    {"glob miss", "{\"properties.path\": {\"glob\": \"/blog/*\"}}", 0},
    {"regex", "{\"customer.traits.email\": {\"regex\": \"@example\\\\.com$\"}}", 1},
    {"regex miss", "{\"customer.traits.email\": {\"regex\": \"^admin@\"}}", 0},
    {"within", "{\"customer.last_seen\": {\"within\": \"1h\"}}", 1},
    {"within edge", "{\"customer.last_seen\": {\"within\": \"59m\"}}", 0},
    {"before", "{\"customer.last_seen\": {\"before\": \"30m\"}}", 1},
    {"all-time count", "{\"customer.events.Order Completed.count\": {\"gte\": 3}}", 1},
    {"all", "{\"all\": [{\"properties.price\": 25}, {\"customer.traits.vip\": true}]}", 1},
    {"any", "{\"any\": [{\"properties.price\": 1}, {\"customer.traits.vip\": true}]}", 1},
    {"any none", "{\"any\": [{\"properties.price\": 1}, {\"customer.traits.vip\": false}]}", 0},
    {"not", "{\"not\": {\"properties.price\": 1}}", 1},
    {"members are and-ed", "{\"properties.price\": 25, \"customer.group\": \"inactive\"}", 0},
    {"absent fails gt", "{\"properties.nothing\": {\"gt\": 1}}", 0},
};

static void test_conditions(void)
{
    json_t *ev = json_loads(EVENT, 0, NULL), *cu = json_loads(CUSTOMER, 0, NULL), *now = json_string("now");
    struct eval_ctx ctx = {ev, cu, NULL, now, NOW_MS, NULL, NULL};
    struct errlist errs = {0};
    struct diag d = {&errs, "t.json", "t"};
    for (size_t i = 0; i < sizeof cond_cases / sizeof cond_cases[0]; i++) {
        json_t *j = json_loads(cond_cases[i].cond, 0, NULL);
        struct counters reg = {0};
        struct cond *c = cond_compile(j, "if", 0, &reg, &d);
        CHECK(c != NULL, "%s: does not compile: %s", cond_cases[i].name, errs.n ? errs.lines[0] : "?");
        if (c)
            CHECK(cond_eval(c, &ctx) == cond_cases[i].want, "%s: want %d", cond_cases[i].name, cond_cases[i].want);
        cond_free(c);
        counter_registry_free(&reg);
        json_decref(j);
        errlist_clear(&errs);
    }
    json_decref(ev);
    json_decref(cu);
    json_decref(now);
}

/* The memo answers what a plain lookup answers: for the same path text in
 * two compiled paths, past its capacity, and never for customer paths
 * (the customer can change while an event is judged). */
static void test_path_memo(void)
{
    json_t *ev = json_loads(EVENT, 0, NULL), *cu = json_loads(CUSTOMER, 0, NULL), *now = json_string("now");
    json_t *other = json_pack("{s:s}", "id", "u2");
    struct path_memo memo = {0};
    struct eval_ctx plain = {ev, cu, NULL, now, NOW_MS, NULL, NULL}, memoed = plain;
    memoed.memo = &memo;
    char err[128];
    struct path a, b, c;
    CHECK(path_compile(&a, "properties.price", err, sizeof err) == 0, "compile: %s", err);
    CHECK(path_compile(&b, "event.properties.price", err, sizeof err) == 0, "compile: %s", err);
    CHECK(path_compile(&c, "customer.id", err, sizeof err) == 0, "compile: %s", err);
    CHECK(path_resolve(&a, &memoed) == path_resolve(&a, &plain) && path_resolve(&a, &plain) != NULL, "memo: a value");
    CHECK(path_resolve(&b, &memoed) == path_resolve(&a, &plain) && memo.n == 1, "memo: same text, one entry (%zu)",
          memo.n);
    CHECK_STR(json_string_value(path_resolve(&c, &memoed)), "u1", "memo: customer");
    memoed.customer = other;
    CHECK_STR(json_string_value(path_resolve(&c, &memoed)), "u2", "memo: a new customer is seen");
    CHECK(memo.n == 1, "memo: customer paths are not kept (%zu)", memo.n);
    struct path many[PATH_MEMO_MAX + 4];
    char text[32];
    for (size_t i = 0; i < PATH_MEMO_MAX + 4; i++) {
        snprintf(text, sizeof text, "properties.p%zu", i);
        CHECK(path_compile(&many[i], text, err, sizeof err) == 0, "compile: %s", err);
        json_object_set_new(json_object_get(ev, "properties"), text + 11, json_integer((json_int_t)i));
    }
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < PATH_MEMO_MAX + 4; i++)
            CHECK(json_integer_value(path_resolve(&many[i], &memoed)) == (json_int_t)i, "memo: p%zu past capacity", i);
    CHECK(memo.n == PATH_MEMO_MAX, "memo: full at %d (%zu)", PATH_MEMO_MAX, memo.n);
    for (size_t i = 0; i < PATH_MEMO_MAX + 4; i++)
        path_free(&many[i]);
    path_free(&a);
    path_free(&b);
    path_free(&c);
    json_decref(other);
    json_decref(ev);
    json_decref(cu);
    json_decref(now);
}

/* --- templates ----------------------------------------------------------- */

static const struct {
    const char *name, *text;
    enum template_escape esc;
    const char *want;
} tmpl_cases[] = {
    {"plain path", "Hi {{customer.id}}!", TEMPLATE_TEXT, "Hi u1!"},
    {"number", "{{properties.price}} EUR", TEMPLATE_TEXT, "25 EUR"},
    {"default used", "{{customer.traits.first_name | default: \"klant\"}}", TEMPLATE_TEXT, "klant"},
    {"default unused", "{{customer.traits.email | default: \"x\"}}", TEMPLATE_TEXT, "z@example.com"},
    {"upcase", "{{properties.name | upcase}}", TEMPLATE_TEXT, "BLUE SHOE"},
    {"downcase", "{{properties.name | downcase}}", TEMPLATE_TEXT, "blue shoe"},
    {"capitalize", "{{customer.group | capitalize}}", TEMPLATE_TEXT, "Active"},
    {"url_encode filter", "{{properties.name | url_encode}}", TEMPLATE_TEXT, "Blue%20Shoe"},
    {"filters chain", "{{customer.traits.nick | default: \"anon\" | upcase}}", TEMPLATE_TEXT, "ANON"},
    {"url escaping", "https://x.test/p?n={{properties.name}}&q={{properties.path}}", TEMPLATE_URL,
     "https://x.test/p?n=Blue%20Shoe&q=%2Fpricing%2Fpro"},
    {"a .. value never climbs a URL path", "http://h.test/api/{{properties.up}}/info?x={{properties.dot}}.",
     TEMPLATE_URL, "http://h.test/api/%2E%2E/info?x=%2E."},
    {"dots inside a value stay", "http://h.test/{{properties.file}}", TEMPLATE_URL, "http://h.test/a..b.txt"},
    {"html escaping", "<b>{{properties.html}}</b>", TEMPLATE_HTML, "<b>&lt;i&gt;&amp;&quot;</b>"},
    {"trigger root", "{{trigger.id}}", TEMPLATE_TEXT, "cart"},
    {"now root", "{{now}}", TEMPLATE_TEXT, "2026-11-22T10:00:00.000Z"},
    {"no placeholders", "just text", TEMPLATE_TEXT, "just text"},
    {"absent is empty", "[{{properties.none}}]", TEMPLATE_TEXT, "[]"},
};

static void test_templates(void)
{
    json_t *ev = json_loads("{\"properties\":{\"price\":25,\"name\":\"Blue Shoe\",\"path\":\"/pricing/pro\","
                            "\"html\":\"<i>&\\\"\",\"evil\":\"a\\r\\nBcc: x@y\",\"up\":\"..\",\"dot\":\".\","
                            "\"file\":\"a..b.txt\",\"tabs\":\"Sale\\t\\u007f now\",\"js\":\"javascript:alert(1)\","
                            "\"link\":\"https://shop.test/?a=1&b=2\"}}",
                            0, NULL);
    json_t *cu = json_loads(CUSTOMER, 0, NULL), *now = json_string("2026-11-22T10:00:00.000Z");
    json_t *trig = json_pack("{s:s}", "id", "cart");
    struct eval_ctx ctx = {ev, cu, trig, now, NOW_MS, NULL, NULL};
    struct errlist errs = {0};
    struct diag d = {&errs, "t.json", "t"};
    char err[256];
    for (size_t i = 0; i < sizeof tmpl_cases / sizeof tmpl_cases[0]; i++) {
        struct template *t = template_compile(tmpl_cases[i].text, tmpl_cases[i].esc, "x", &d);
        CHECK(t != NULL, "%s: does not compile", tmpl_cases[i].name);
        char *out = t ? template_render(t, &ctx, err, sizeof err) : NULL;
        CHECK_STR(out, tmpl_cases[i].want, tmpl_cases[i].name);
        free(out);
        template_free(t);
    }
    /* A header value is folded, as RFC 5322 allows: CR, LF and TAB runs
     * become one space, other controls and DEL go; never a second line. */
    struct template *h =
        template_compile("x-{{properties.evil}}|{{properties.tabs}}", TEMPLATE_HEADER, "headers.x", &d);
    char *out = h ? template_render(h, &ctx, err, sizeof err) : NULL;
    CHECK_STR(out, "x-a Bcc: x@y|Sale  now", "header folded, not injected");
    free(out);
    template_free(h);
    /* A value that starts an href or src must be an http(s) or mailto link. */
    static const struct {
        const char *text, *want; /* want NULL: the render fails */
    } links[] = {
        {"<a href=\"{{properties.js}}\">x</a>", NULL},
        {"<img SRC = '{{properties.js}}'>", NULL},
        {"<a href={{properties.link}}>x</a>", "<a href=https://shop.test/?a=1&amp;b=2>x</a>"},
        {"<a href=\"mailto:{{properties.js}}\">x</a>", "<a href=\"mailto:javascript:alert(1)\">x</a>"},
        {"<p title=\"{{properties.js}}\">x</p>", "<p title=\"javascript:alert(1)\">x</p>"},
    };
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        struct template *l = template_compile(links[i].text, TEMPLATE_HTML, "html", &d);
        char *got = l ? template_render(l, &ctx, err, sizeof err) : NULL;
        if (links[i].want)
            CHECK_STR(got, links[i].want, links[i].text);
        else
            CHECK(got == NULL && strstr(err, "must start with http://"), "%s: refused (%s)", links[i].text, err);
        free(got);
        template_free(l);
    }
    /* A single placeholder keeps the value's JSON type. */
    struct template *w = template_compile("{{properties.price}}", TEMPLATE_TEXT, "body.p", &d);
    int whole;
    json_t *v = template_whole_value(w, &ctx, &whole);
    CHECK(whole && json_is_integer(v) && json_integer_value(v) == 25, "whole value keeps the number");
    template_free(w);
    CHECK(errs.n == 0, "no compile errors expected, got %zu", errs.n);
    errlist_clear(&errs);
    json_decref(ev);
    json_decref(cu);
    json_decref(now);
    json_decref(trig);
}

/* --- trigger-file errors (exact text) ------------------------------------ */

#define HOOK "\"actions\": [{\"webhook\": {\"url\": \"https://crm.test/h\"}}]"

static const struct {
    const char *name, *text, *want;
} error_cases[] = {
    {"bad JSON with line:col", "{\n  \"id\": \"a\",\n  \"on\": \"X\"\n  \"actions\": []\n}",
     "t.json:4:11: '}' expected near '\"actions\"'"},
    {"unknown key with a hint", "{\"id\": \"a\", \"on\": \"X\", \"wehre\": {}, " HOOK "}",
     "t.json: trigger \"a\": wehre: unknown key (did you mean \"where\"?)"},
    {"unknown key without a hint", "{\"id\": \"a\", \"on\": \"X\", \"colour\": 1, " HOOK "}",
     "t.json: trigger \"a\": colour: unknown key; a trigger has id, description, enabled, on, where, if, unless, "
     "delay, limit, quiet_hours, actions"},
    {"wrong type", "{\"id\": \"a\", \"on\": \"X\", \"enabled\": \"yes\", " HOOK "}",
     "t.json: trigger \"a\": enabled: must be true or false"},
    {"wrong type of on", "{\"id\": \"a\", \"on\": 5, " HOOK "}",
     "t.json: trigger \"a\": on: must be an event name, \"page\", \"screen\", \"identify\", {\"event\": NAME}, "
     "{\"page\": "
     "PATH_GLOB} or {\"group\": GROUP}"},
    {"unknown group", "{\"id\": \"a\", \"on\": {\"group\": \"inactiv\"}, " HOOK "}",
     "t.json: trigger \"a\": on.group: \"inactiv\" is not a group (did you mean \"inactive\"?); groups are active, "
     "inactive, potential, interested, excluded"},
    {"bad delay", "{\"id\": \"a\", \"on\": \"X\", \"delay\": \"1 week\", " HOOK "}",
     "t.json: trigger \"a\": delay: needs a duration such as \"30s\", \"10m\", \"1h\", \"7d\" or \"1h30m\""},
    {"unless without within", "{\"id\": \"a\", \"on\": \"X\", \"unless\": {\"event\": \"Order Completed\"}, " HOOK "}",
     "t.json: trigger \"a\": unless.within: is required: a duration such as \"7d\""},
    {"unless with a typo",
     "{\"id\": \"a\", \"on\": \"X\", \"unless\": {\"evnt\": \"Y\", \"within\": \"1h\"}, " HOOK "}",
     "t.json: trigger \"a\": unless.evnt: unknown key (did you mean \"event\"?); it has event, where, within"},
    {"bad limit", "{\"id\": \"a\", \"on\": \"X\", \"limit\": {\"max\": 0, \"per\": \"1d\"}, " HOOK "}",
     "t.json: trigger \"a\": limit: needs {\"max\": N, \"per\": DURATION} with N from 1 to 100"},
    {"bad quiet hours",
     "{\"id\": \"a\", \"on\": \"X\", \"quiet_hours\": {\"from\": \"22h\", \"to\": \"08:00\"}, " HOOK "}",
     "t.json: trigger \"a\": quiet_hours: needs {\"from\": \"HH:MM\", \"to\": \"HH:MM\"}"},
    {"count without comparison",
     "{\"id\": \"a\", \"on\": \"X\", \"if\": {\"count\": {\"event\": \"Y\", \"within\": \"7d\"}}, " HOOK "}",
     "t.json: trigger \"a\": if: a count needs a comparison, such as \"gte\": 3"},
    {"count with a bad operator",
     "{\"id\": \"a\", \"on\": \"X\", \"if\": {\"count\": {\"event\": \"Y\", \"within\": \"7d\"}, \"in\": [1]}, " HOOK
     "}",
     "t.json: trigger \"a\": if.in: a count is compared with eq, ne, gt, gte, lt or lte and a number"},
    {"count in where",
     "{\"id\": \"a\", \"on\": \"X\", \"where\": {\"count\": {\"event\": \"Y\", \"within\": \"7d\"}, \"gte\": 1}, " HOOK
     "}",
     "t.json: trigger \"a\": where.count: counts are about the customer: put them in if"},
    {"customer in a count's where",
     "{\"id\": \"a\", \"on\": \"X\", \"if\": {\"count\": {\"event\": \"Y\", \"within\": \"7d\", \"where\": "
     "{\"customer.score\": 1}}, \"gte\": 1}, " HOOK "}",
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
    {"unknown operator", "{\"id\": \"a\", \"on\": \"X\", \"where\": {\"properties.price\": {\"gtee\": 5}}, " HOOK "}",
     "t.json: trigger \"a\": where.properties.price.gtee: unknown operator \"gtee\" (did you mean \"gte\"?); "
     "operators are eq ne gt gte lt lte in nin exists contains prefix glob regex within before"},
    {"bad regex", "{\"id\": \"a\", \"on\": \"X\", \"if\": {\"customer.id\": {\"regex\": \"(\"}}, " HOOK "}",
     "t.json: trigger \"a\": if.customer.id.regex: is not a valid regular expression: "},
    {"bad duration",
     "{\"id\": \"a\", \"on\": \"X\", \"if\": {\"customer.last_seen\": {\"within\": \"3 days\"}}, " HOOK "}",
     "t.json: trigger \"a\": if.customer.last_seen.within: needs a duration such as \"30s\", \"10m\", \"1h\", \"7d\" "
     "or \"1h30m\""},
    {"unknown root", "{\"id\": \"a\", \"on\": \"X\", \"where\": {\"order.total\": 5}, " HOOK "}",
     "t.json: trigger \"a\": where.order.total: \"order\" is not a known root: a path starts with event, properties, "
     "customer, trigger or now"},
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
    {"bad id", "{\"id\": \"Big Id\", \"on\": \"X\", " HOOK "}",
     "t.json: [0]: id is required: lower-case letters, digits, _ and -, starting with a letter or digit, at most 64 "
     "characters"},
    {"bad secret",
     "{\"id\": \"a\", \"on\": \"X\", \"actions\": [{\"webhook\": {\"url\": \"https://x.test/\", \"secret\": "
     "\"hunter2\"}}]}",
     "t.json: trigger \"a\": actions[0].webhook.secret: must be a Standard Webhooks secret: whsec_ followed by base64"},
    {"duplicate id in one file", "[{\"id\": \"a\", \"on\": \"X\", " HOOK "}, {\"id\": \"a\", \"on\": \"Y\", " HOOK "}]",
     "t.json: trigger \"a\": id: the id is already used in t.json"},
    {"customer in where", "{\"id\": \"a\", \"on\": \"X\", \"where\": {\"customer.group\": \"active\"}, " HOOK "}",
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
        struct trigger_set *set = trigger_set_load_text("t.json", error_cases[i].text, ".", &errs);
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
    struct trigger_set *set = trigger_set_load_text("t.json", text, ".", &errs);
    CHECK(set == NULL && errs.n == 3, "three problems, got %zu", errs.n);
    errlist_clear(&errs);
}

static void test_matching(void)
{
    struct errlist errs = {0};
    const char *text =
        "[{\"id\": \"order\", \"on\": \"Order Completed\", \"where\": {\"properties.total\": {\"gte\": 20}}, " HOOK "},"
        " {\"id\": \"pricing\", \"on\": {\"page\": \"/pricing*\"}, " HOOK "},"
        " {\"id\": \"any-page\", \"on\": \"page\", " HOOK "},"
        " {\"id\": \"ident\", \"on\": \"identify\", \"if\": {\"customer.traits.email\": {\"exists\": true}}, " HOOK "},"
        " {\"id\": \"off\", \"on\": \"Order Completed\", \"enabled\": false, " HOOK "}]";
    struct trigger_set *set = trigger_set_load_text("t.json", text, ".", &errs);
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
        struct eval_ctx ctx = {ev, cu, NULL, NULL, 0, NULL, NULL};
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
        "[{\"id\": \"night\", \"on\": \"X\", \"quiet_hours\": {\"from\": \"22:00\", \"to\": \"08:00\"}, " HOOK "},"
        " {\"id\": \"lunch\", \"on\": \"X\", \"quiet_hours\": {\"from\": \"12:00\", \"to\": \"13:30\"}, " HOOK "},"
        " {\"id\": \"none\", \"on\": \"X\", " HOOK "}]",
        ".", &errs);
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

static const char *apply(json_t *fields, const struct trigger_set *set, const char *text, int64_t now)
{
    json_t *msg = json_loads(text, 0, NULL);
    struct message m;
    char err[256];
    const char *moved = NULL;
    const struct counter *hits[8];
    if (msg && message_validate(msg, "1-0", now, &m, err, sizeof err) == 0) {
        struct eval_ctx ctx = {msg, NULL, NULL, NULL, now, NULL, NULL};
        struct customer_update u;
        customer_update_init(&u, &m, msg);
        u.counters = hits;
        u.ncounters = trigger_set_counters_hit(set, &m, &ctx, hits, 8);
        moved = customer_apply(fields, &u, now, 90 * 86400000LL);
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
        "\"gte\": 3}, " HOOK "},"
        " {\"id\": \"lim\", \"on\": \"Visit\", \"limit\": {\"max\": 2, \"per\": \"1h\"}, " HOOK "}]",
        ".", &errs);
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
        struct eval_ctx ctx = {NULL, view, NULL, NULL, ts, state, NULL};
        CHECK(trigger_if_holds(three, &ctx) == want_three[i], "three visits within 1h, visit %d", i + 1);
        char lkey[16];
        snprintf(lkey, sizeof lkey, "l:lim");
        bool allowed = trigger_limit_allows(lim, json_object_get(state, lkey), ts);
        CHECK(allowed == (i != 2), "limit 2 per hour, visit %d", i + 1);
        if (allowed)
            customer_fired(f, lim, NULL, 0, ts);
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

/* IN parsed by jparse_loadb gives json_loadb's value in json_loadb's key
 * order (compared as compact JSON text), or fails as it does; FAST says
 * whether the fast path takes it. */
static void check_jparse(const char *in, size_t len, int fast)
{
    json_error_t je;
    json_t *want = json_loadb(in, len, 0, &je), *got = jparse_loadb(in, len, &je), *f = jparse_fast(in, len);
    char *w = want ? json_dumps(want, JSON_COMPACT) : NULL, *g = got ? json_dumps(got, JSON_COMPACT) : NULL;
    CHECK((w == NULL && g == NULL) || (w && g && strcmp(w, g) == 0 && json_equal(want, got)),
          "jparse %.40s: want %s, got %s", in, w ? w : "an error", g ? g : "an error");
    CHECK((f != NULL) == fast, "jparse %.40s: the fast path %s it", in, f ? "took" : "left");
    free(w);
    free(g);
    json_decref(want);
    json_decref(got);
    json_decref(f);
}

static void test_jparse(void)
{
    static const struct {
        const char *in;
        int fast;
    } cases[] = {
        {"{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Order Completed\",\"properties\":{\"total\":19.99,"
         "\"n\":-0,\"big\":-9223372036854775808,\"e\":1.5E+3,\"tags\":[true,false,null,[],{}]}}",
         1},
        {" \t\r\n{ \"a\" : [ 1 , 2 ] , \"\" : \"\" }\n", 1},
        {"{\"q\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"}", 1},
        {"{\"u\":\"M\\u00fcller \\u20AC \\ud83d\\ude00\", \"k\\u00e9y\":1}", 1},
        {"{\"u\":\"M\xc3\xbcller \xe2\x82\xac \xf0\x9f\x98\x80\"}", 1},
        {"{\"a\":1,\"b\":2,\"a\":3}", 1}, /* the first place, the last value */
        {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", 1},
        /* Valid for jansson, left to it. */
        {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", 0},
        {"{\"a\":1e-400}", 0},
        {"{\"a\":1.000000000000000000000000000000000000000000000000000000000000001}", 0},
        /* Invalid: jansson says why. */
        {"{\"a\":\"\\u0000\"}", 0},
        {"{\"a\":\"\\ud800\"}", 0},
        {"{\"a\":\"\\ud800\\u0041\"}", 0},
        {"{\"a\":\"\\udc00\"}", 0},
        {"{\"a\":\"\\u12\"}", 0},
        {"{\"a\":\"\\x\"}", 0},
        {"{\"a\":9223372036854775808}", 0},
        {"{\"a\":1e400}", 0},
        {"{\"a\":01}", 0},
        {"{\"a\":1.}", 0},
        {"{\"a\":.5}", 0},
        {"{\"a\":+1}", 0},
        {"{\"a\":-}", 0},
        {"{\"a\":1e}", 0},
        {"{\"a\":tru}", 0},
        {"{\"a\":truex}", 0},
        {"[1,]", 0},
        {"{\"a\":1,}", 0},
        {"{\"a\" 1}", 0},
        {"{a:1}", 0},
        {"{\"a\":1}x", 0},
        {"{\"a\":1}}", 0},
        {"\"text\"", 0},
        {"42", 0},
        {"", 0},
        {"   ", 0},
        {"{\"a\":\"\x01\"}", 0},
        {"{\"a\":\"\xc3\x28\"}", 0},
        {"{\"a\":\"\xc0\xaf\"}", 0},
        {"{\"a\":\"\xe0\x80\xaf\"}", 0},
        {"{\"a\":\"\xed\xa0\x80\"}", 0},
        {"{\"a\":\"\xf4\x90\x80\x80\"}", 0},
        {"{\"a\":\"\xf0\x9f\x98\"}", 0},
        {"{\"a\":\"\x80\"}", 0},
        {"{\"a\":\"open", 0},
        {"{\"a\":\"open\\", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_jparse(cases[i].in, strlen(cases[i].in), cases[i].fast);
    /* A NUL byte inside the buffer, in a string and after the value. */
    check_jparse("{\"a\":\"x\0y\"}", 11, 0);
    check_jparse("{\"a\":1}\0", 8, 0);
    /* The length bounds the input: what follows it is not read. */
    check_jparse("{\"a\":1}garbage", 7, 1);
    check_jparse("{\"a\":\"bc\"}", 9, 0);
}

/* IN read as a flat object of strings: taken (TAKES) exactly when it is
 * one that jansson reads, with jansson's value. */
static void check_flat(const char *in, size_t len, int takes)
{
    struct jparse_flat f;
    int rc = jparse_flat_parse(&f, in, len);
    CHECK((rc == 0) == takes, "flat %.40s: %s", in, rc == 0 ? "taken" : "left");
    if (rc == 0) {
        json_t *want = json_loadb(in, len, 0, NULL), *got = jparse_flat_to_json(&f);
        CHECK(want && got && json_equal(want, got), "flat %.40s: jansson's value", in);
        json_decref(want);
        json_decref(got);
    }
    CHECK(rc == 0 || (f.n == 0 && f.text == NULL), "flat %.40s: left empty", in);
    jparse_flat_free(&f);
}

static void test_jparse_flat(void)
{
    static const struct {
        const char *in;
        int takes;
    } cases[] = {
        {"{}", 1},
        {" {\"a\" : \"b\" ,\"c\":\"\"} \n", 1},
        {"{\"k\":\"q\\\"b\\\\s\\/n\\n\\t\\u00e9\\ud83d\\ude00 \xc3\xa9\"}", 1}, /* escapes, UTF-8 */
        {"{\"a\":\"1\",\"a\":\"2\"}", 1},                                       /* the last value wins */
        {"{\"a\":1}", 0},
        {"{\"a\":null}", 0},
        {"{\"a\":{\"b\":\"c\"}}", 0},
        {"[\"a\"]", 0},
        {"\"a\"", 0},
        {"{\"a\":\"x\\u0000y\"}", 0}, /* jansson refuses NUL without a flag */
        {"{\"a\":\"\\ud800\"}", 0},   /* a lone surrogate */
        {"{\"a\":\"\xc3\"}", 0},      /* cut-short UTF-8 */
        {"{\"a\":\"\x01\"}", 0},      /* a control byte */
        {"{\"a\":\"b\"} x", 0},
        {"{\"a\":\"b\"", 0},
        {"{\"a\":\"b\" \"c\":\"d\"}", 0},
        {"{\"a\":\"b\",}", 0},
        {"{\"a\" \"b\"}", 0},
        {"{\"a\":\"b\\x\"}", 0}, /* an unknown escape */
        {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_flat(cases[i].in, strlen(cases[i].in), cases[i].takes);

    /* The value of a key given twice is the last; a missing key is NULL. */
    struct jparse_flat f;
    CHECK(jparse_flat_parse(&f, "{\"a\":\"1\",\"b\":\"x\",\"a\":\"2\"}", 25) == 0, "duplicate keys");
    CHECK_STR(jparse_flat_get(&f, "a"), "2", "last value");
    CHECK(jparse_flat_get(&f, "z") == NULL, "missing key");
    jparse_flat_free(&f);

    /* Up to JPARSE_FLAT_MAX members; one more is left to jansson. */
    char big[1024];
    size_t n = 0;
    for (int i = 0; i <= JPARSE_FLAT_MAX; i++) {
        n += (size_t)snprintf(big + n, sizeof big - n, "%s\"k%d\":\"v\"", i ? "," : "{", i);
        char obj[1100];
        snprintf(obj, sizeof obj, "%s}", big);
        check_flat(obj, strlen(obj), i < JPARSE_FLAT_MAX); /* i + 1 members */
    }

    /* From jansson: a value that is not a string reads as "". */
    json_t *o = json_pack("{s:s, s:i, s:n}", "a", "x", "b", 7, "c");
    CHECK(jparse_flat_from_json(&f, o) == 0 && f.n == 3, "from jansson");
    CHECK_STR(jparse_flat_get(&f, "a"), "x", "a string");
    CHECK_STR(jparse_flat_get(&f, "b"), "", "a number");
    jparse_flat_free(&f);
    json_decref(o);
}

int main(void)
{
    test_jparse();
    test_jparse_flat();
    test_trait_merge();
    test_customer();
    test_quiet_hours();
    test_messages();
    test_format_time();
    test_durations();
    test_conditions();
    test_path_memo();
    test_templates();
    test_trigger_errors();
    test_all_errors_reported();
    test_matching();
    return harness_summary("test_triggers");
}
