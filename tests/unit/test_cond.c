/* test_cond.c — conditions: every operator at its edges, all/any/not, and the path memo. */
#include "cond.h"
#include "counter.h"
#include "errlist.h"
#include "fixtures.h"
#include "harness.h"
#include "path.h"

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
    json_t *ev = json_loads(FIXTURE_EVENT, 0, NULL), *cu = json_loads(FIXTURE_CUSTOMER, 0, NULL),
           *now = json_string("now");
    struct eval_ctx ctx = {ev, cu, NULL, now, FIXTURE_NOW_MS, NULL, NULL, NULL};
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
    json_t *ev = json_loads(FIXTURE_EVENT, 0, NULL), *cu = json_loads(FIXTURE_CUSTOMER, 0, NULL),
           *now = json_string("now");
    json_t *other = json_pack("{s:s}", "id", "u2");
    struct path_memo memo = {0};
    struct eval_ctx plain = {ev, cu, NULL, now, FIXTURE_NOW_MS, NULL, NULL, NULL}, memoed = plain;
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

int main(void)
{
    test_conditions();
    test_path_memo();
    return harness_summary("test_cond");
}
