/* test_outbox.c — the outbox record: written as one JSON object of strings
 * and read back, its defaults, and entries nudged did not write. */
#include "harness.h"
#include "outbox.h"

#include <stdlib.h>

/* A stream entry's field/value array, as hiredis hands it over. */
static redisReply *entry_fields(const char *const *kv, size_t n)
{
    redisReply *r = calloc(1, sizeof *r);
    r->type = REDIS_REPLY_ARRAY;
    r->elements = n;
    r->element = calloc(n, sizeof *r->element);
    for (size_t i = 0; i < n; i++) {
        redisReply *s = calloc(1, sizeof *s);
        s->type = REDIS_REPLY_STRING;
        s->str = (char *)kv[i];
        s->len = strlen(kv[i]);
        r->element[i] = s;
    }
    return r;
}

static void fields_free(redisReply *r)
{
    for (size_t i = 0; i < r->elements; i++)
        free(r->element[i]);
    free(r->element);
    free(r);
}

static void test_write_and_read(void)
{
    struct outbox_record r = {{0}, 0};
    outbox_put(&r, "d", "msg_1");
    outbox_put(&r, "kind", "webhook");
    outbox_put(&r, "method", NULL); /* the default: left out */
    outbox_put(&r, "body", "{\"a\":\"x\\ny\"}\t\x01");
    char *json = outbox_json(&r);
    CHECK_STR(json, "{\"d\":\"msg_1\",\"kind\":\"webhook\",\"body\":\"{\\\"a\\\":\\\"x\\\\ny\\\"}\\u0009\\u0001\"}",
              "escaped, in order, the default left out");
    const char *kv[] = {OUTBOX_FIELD, json};
    redisReply *fields = entry_fields(kv, 2);
    struct jparse_flat f;
    outbox_read(&f, fields);
    CHECK_STR(jparse_flat_get(&f, "body"), "{\"a\":\"x\\ny\"}\t\x01", "read back whole");
    CHECK(jparse_flat_get(&f, "method") == NULL, "method left out");
    CHECK_STR(outbox_default("webhook", "method"), OUTBOX_DEFAULT_METHOD, "a webhook's method");
    CHECK_STR(outbox_default("email", "attempt"), "1", "attempt 1");
    CHECK(outbox_default("email", "headers") == NULL, "an email has no default headers");
    jparse_flat_free(&f);
    fields_free(fields);
    free(json);
}

static void test_foreign_entries(void)
{
    static const struct {
        const char *name;
        const char *kv[4];
        size_t n;
        const char *error;
    } cases[] = {
        {"fields as entry fields", {"d", "msg_x", "url", "http://h/"}, 4, "an actions entry has exactly one field"},
        {"broken JSON", {OUTBOX_FIELD, "{not json"}, 2, "the delivery is not a JSON object"},
        {"another field name", {"deliveries", "{}"}, 2, "an actions entry has exactly one field"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        redisReply *fields = entry_fields(cases[i].kv, cases[i].n);
        struct jparse_flat f;
        outbox_read(&f, fields);
        const char *err = jparse_flat_get(&f, "error");
        CHECK(err && strncmp(err, cases[i].error, strlen(cases[i].error)) == 0, "%s: %s", cases[i].name,
              harness_show(err));
        jparse_flat_free(&f);
        fields_free(fields);
    }
}

int main(void)
{
    test_write_and_read();
    test_foreign_entries();
    return harness_summary("test_outbox");
}
