/* test_segment.c — Segment's request rules: the cases, the semantics, splicing, limits. */
#include "harness.h"
#include "message.h"
#include "segment.h"
#include "shard.h"
#include "util.h"

#include <jansson.h>

#define NOW 1796245980000LL /* 2026-12-02T21:13:00.000Z */

#define BATCH (-1)

struct seg_case {
    const char *name;
    int type; /* a message_type, or BATCH */
    const char *body;
    int status;
    const char *code;    /* when status != 200 */
    const char *message; /* a prefix of the error message */
    size_t n;            /* messages when 200 */
};

static const struct seg_case seg_cases[] = {
    {"track", MESSAGE_TRACK, "{\"userId\":\"u\",\"event\":\"E\"}", 200, NULL, NULL, 1},
    {"path sets type", MESSAGE_PAGE, "{\"type\":\"track\",\"anonymousId\":\"a\"}", 200, NULL, NULL, 1},
    {"screen", MESSAGE_SCREEN, "{\"userId\":\"u\",\"name\":\"Home\"}", 200, NULL, NULL, 1},
    {"group", MESSAGE_GROUP, "{\"userId\":\"u\",\"groupId\":\"g1\"}", 200, NULL, NULL, 1},
    {"group without groupId", MESSAGE_GROUP, "{\"userId\":\"u\"}", 400, "invalid_message", "a group message needs", 0},
    {"not json", MESSAGE_TRACK, "{\"userId\":", 400, "invalid_json", "the body is not JSON", 0},
    {"not an object", MESSAGE_TRACK, "[1]", 400, "invalid_json", "the body must be a JSON object", 0},
    {"no ids", MESSAGE_TRACK, "{\"event\":\"E\"}", 400, "invalid_message", "the message needs userId", 0},
    {"track without event", MESSAGE_TRACK, "{\"userId\":\"u\"}", 400, "invalid_message", "a track message needs", 0},
    {"batch", BATCH,
     "{\"batch\":[{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\"},{\"type\":\"page\",\"userId\":\"u\"}]}", 200,
     NULL, NULL, 2},
    {"empty batch", BATCH, "{\"batch\":[]}", 200, NULL, NULL, 0},
    {"batch not an array", BATCH, "{\"batch\":{}}", 400, "invalid_request", "a batch request is", 0},
    {"batch one bad refuses all", BATCH,
     "{\"batch\":[{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\"},{\"type\":\"track\",\"userId\":\"u\"}]}", 400,
     "invalid_message", "batch[1]: a track message needs", 0},
    {"batch unknown type", BATCH, "{\"batch\":[{\"type\":\"purchase\",\"userId\":\"u\"}]}", 400, "invalid_message",
     "batch[0]: type \"purchase\" is unknown", 0},
    {"batch message without type", BATCH, "{\"batch\":[{\"userId\":\"u\"}]}", 400, "invalid_message",
     "batch[0]: type is missing", 0},
    {"batch message not an object", BATCH, "{\"batch\":[3]}", 400, "invalid_message", "batch[0]: a message must be", 0},
    {"bad sentAt", MESSAGE_TRACK,
     "{\"userId\":\"u\",\"event\":\"E\",\"sentAt\":\"yesterday\",\"timestamp\":\"2026-01-01T00:00:00Z\"}", 400,
     "invalid_message", "sentAt and originalTimestamp must be", 0},
};

static void test_segment_cases(void)
{
    for (size_t i = 0; i < sizeof seg_cases / sizeof seg_cases[0]; i++) {
        const struct seg_case *c = &seg_cases[i];
        struct segment_request rq = {c->body, strlen(c->body), c->type, NOW, "req", 16};
        struct segment_result r;
        int st = segment_parse(&rq, &r);
        CHECK(st == c->status && r.status == c->status, "%s: status %d, want %d (%s)", c->name, st, c->status,
              r.message);
        if (c->status == 200) {
            CHECK(r.n == c->n, "%s: %zu messages, want %zu", c->name, r.n, c->n);
            CHECK(r.code[0] == '\0', "%s: no error code on success", c->name);
        } else {
            CHECK_STR(r.code, c->code, c->name);
            CHECK(strncmp(r.message, c->message, strlen(c->message)) == 0, "%s: message \"%s\", want \"%s...\"",
                  c->name, r.message, c->message);
            CHECK(r.n == 0, "%s: a refused request keeps no message (%zu)", c->name, r.n);
        }
        segment_result_free(&r);
    }
}

static json_t *parse_one(int type, const char *body, struct segment_result *r)
{
    struct segment_request rq = {body, strlen(body), type, NOW, "req", 16};
    if (segment_parse(&rq, r) != 200 || r->n < 1)
        return NULL;
    return json_loads(r->messages[0], 0, NULL);
}

static void test_segment_semantics(void)
{
    struct segment_result r;
    /* The client clock is 1 h ahead; the event happened 10 s before it sent. */
    json_t *m = parse_one(MESSAGE_TRACK,
                          "{\"userId\":\"u\",\"event\":\"E\",\"writeKey\":\"k\",\"sentAt\":\"2026-12-02T22:13:00Z\","
                          "\"originalTimestamp\":\"2026-12-02T22:12:50Z\"}",
                          &r);
    CHECK(m != NULL, "clock skew: parsed");
    CHECK_STR(json_string_value(json_object_get(m, "timestamp")), "2026-12-02T21:12:50.000Z", "corrected timestamp");
    CHECK_STR(json_string_value(json_object_get(m, "receivedAt")), "2026-12-02T21:13:00.000Z", "receivedAt");
    CHECK_STR(json_string_value(json_object_get(m, "messageId")), "req-0", "generated messageId");
    CHECK_STR(json_string_value(json_object_get(m, "type")), "track", "type from the path");
    CHECK(json_object_get(m, "writeKey") == NULL, "the write key is never stored");
    CHECK_STR(r.write_key, "k", "the body's write key is handed to the caller");
    json_decref(m);
    segment_result_free(&r);

    /* A timestamp without sentAt is kept; a given messageId too. */
    m = parse_one(MESSAGE_TRACK,
                  "{\"userId\":\"u\",\"event\":\"E\",\"messageId\":\"m1\",\"timestamp\":\"2026-01-01T00:00:00Z\"}", &r);
    CHECK_STR(json_string_value(json_object_get(m, "timestamp")), "2026-01-01T00:00:00Z", "own timestamp kept");
    CHECK_STR(json_string_value(json_object_get(m, "messageId")), "m1", "own messageId kept");
    json_decref(m);
    segment_result_free(&r);

    /* A batch's context, integrations and sentAt apply to each message; the
     * message's own keys win. */
    struct segment_request rq = {
        "{\"sentAt\":\"2026-12-02T21:14:00Z\",\"context\":{\"ip\":\"1.2.3.4\",\"locale\":\"nl\"},"
        "\"integrations\":{\"All\":true},\"batch\":[{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\","
        "\"context\":{\"locale\":\"de\"},\"timestamp\":\"2026-12-02T21:13:30Z\"}]}",
        0,
        BATCH,
        NOW,
        "b",
        16};
    rq.len = strlen(rq.body);
    CHECK(segment_parse(&rq, &r) == 200 && r.n == 1, "batch merge: parsed (%s)", r.message);
    m = r.n ? json_loads(r.messages[0], 0, NULL) : NULL;
    json_t *ctx = json_object_get(m, "context");
    CHECK_STR(json_string_value(json_object_get(ctx, "locale")), "de", "the message's own context wins");
    CHECK_STR(json_string_value(json_object_get(ctx, "ip")), "1.2.3.4", "the batch's context is merged in");
    CHECK(json_is_true(json_object_get(json_object_get(m, "integrations"), "All")), "integrations merged");
    CHECK_STR(json_string_value(json_object_get(m, "timestamp")), "2026-12-02T21:12:30.000Z",
              "the batch's sentAt corrects the clock");
    json_decref(m);
    segment_result_free(&r);
}

/* The stored text: the client's own, with nudged's members once each; the
 * same values as the whole jansson path, whichever path a body takes. */
static void test_segment_splice(void)
{
    static const struct {
        const char *name;
        int type;
        const char *body;
        const char *want_props; /* properties as compact JSON */
    } cases[] = {
        {"braces and quotes in strings", MESSAGE_TRACK,
         "{ \"userId\" : \"u\", \"event\":\"E\",\n \"properties\": {\"s\": \"}{][\\\"\\\\\", \"n\": [1, {\"x\": "
         "null}]},"
         " \"type\": \"page\", \"timestamp\": \"2026-01-01T00:00:00Z\", \"messageId\": \"m\", \"writeKey\": \"k\" }",
         "{\"s\":\"}{][\\\"\\\\\",\"n\":[1,{\"x\":null}]}"},
        {"a key with an escape (serialised instead)", MESSAGE_TRACK,
         "{\"userId\":\"u\",\"event\":\"E\",\"properties\":{\"a\":1},\"\\u0074ype\":\"x\"}", "{\"a\":1}"},
        {"given twice, the last wins", BATCH,
         "{\"batch\":[{\"type\":\"track\",\"userId\":\"a\",\"userId\":\"u\",\"event\":\"E\",\"properties\":{\"a\":1},"
         "\"messageId\":\"one\",\"messageId\":\"m\"}]}",
         "{\"a\":1}"},
        {"a batch with its own context (merged, so read whole)", BATCH,
         "{\"context\":{\"ip\":\"1\"},\"batch\":[{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\","
         "\"properties\":{\"a\":1},\"messageId\":\"m\"}]}",
         "{\"a\":1}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct segment_request rq = {cases[i].body, strlen(cases[i].body), cases[i].type, NOW, "r", 16};
        struct segment_result r;
        CHECK(segment_parse(&rq, &r) == 200 && r.n == 1, "%s: parsed (%s)", cases[i].name, r.message);
        json_t *m = r.n ? json_loads(r.messages[0], 0, NULL) : NULL;
        CHECK(m != NULL, "%s: stored text is JSON: %s", cases[i].name, r.n ? r.messages[0] : "");
        char *props = json_dumps(json_object_get(m, "properties"), JSON_COMPACT);
        CHECK_STR(props, cases[i].want_props, cases[i].name);
        CHECK_STR(json_string_value(json_object_get(m, "userId")), "u", cases[i].name);
        CHECK(json_object_get(m, "writeKey") == NULL, "%s: no writeKey", cases[i].name);
        CHECK_STR(json_string_value(json_object_get(m, "receivedAt")), "2026-12-02T21:13:00.000Z", cases[i].name);
        if (i != 1)
            CHECK_STR(json_string_value(json_object_get(m, "messageId")), "m", cases[i].name);
        CHECK_STR(json_string_value(json_object_get(m, "type")), "track", cases[i].name);
        if (i == 3)
            CHECK_STR(json_string_value(json_object_get(json_object_get(m, "context"), "ip")), "1", cases[i].name);
        /* nudged's members appear once in the text */
        const char *t = r.n ? r.messages[0] : "";
        CHECK(strstr(t, "\"receivedAt\"") == strrchr(t, 'A') - 9 ||
                  strstr(strstr(t, "\"receivedAt\"") + 1, "\"receivedAt\"") == NULL,
              "%s: receivedAt once", cases[i].name);
        free(props);
        json_decref(m);
        segment_result_free(&r);
    }
}

static void test_segment_limits(void)
{
    struct segment_result r;
    size_t big = SEGMENT_MESSAGE_MAX + 100;
    char *body = malloc(big + 64);
    int n = snprintf(body, 64, "{\"userId\":\"u\",\"event\":\"E\",\"p\":\"");
    memset(body + n, 'x', big - (size_t)n - 2);
    memcpy(body + big - 2, "\"}", 3);
    struct segment_request rq = {body, strlen(body), MESSAGE_TRACK, NOW, "r", 16};
    CHECK(segment_parse(&rq, &r) == 413 && strcmp(r.code, "too_large") == 0, "a message over 32 KiB: 413 (%d)",
          r.status);
    segment_result_free(&r);
    free(body);

    /* 2,501 messages: 413 before any is looked at. */
    struct buf b;
    util_buf_init(&b, 1 << 20);
    int rc = util_buf_adds(&b, "{\"batch\":[");
    for (int i = 0; i <= SEGMENT_BATCH_COUNT; i++)
        rc |= util_buf_adds(&b, i ? ",{}" : "{}");
    rc |= util_buf_adds(&b, "]}");
    CHECK(rc == 0, "building the batch");
    rq = (struct segment_request){b.data, b.len, BATCH, NOW, "r", 16};
    CHECK(segment_parse(&rq, &r) == 413, "2,501 messages: 413 (%d %s)", r.status, r.message);
    segment_result_free(&r);
    util_buf_free(&b);
}

/* Each message's shard is its customer's: the userId when it has one,
 * else the anonymousId (shard.h), whatever else the batch holds. */
static void test_segment_shards(void)
{
    const char *body = "{\"batch\":[{\"type\":\"track\",\"userId\":\"alice\",\"event\":\"E\"},"
                       "{\"type\":\"page\",\"anonymousId\":\"anon-7\"},"
                       "{\"type\":\"identify\",\"userId\":\"bob\",\"anonymousId\":\"anon-7\"}]}";
    struct segment_request rq = {body, strlen(body), BATCH, NOW, "s", 16};
    struct segment_result r;
    CHECK(segment_parse(&rq, &r) == 200 && r.n == 3, "a batch of three: %s", r.message);
    const char *who[] = {"alice", "anon-7", "bob"};
    for (size_t i = 0; i < r.n && i < 3; i++)
        CHECK(r.shards[i] == shard_of(who[i], 16), "message %zu goes to %s's shard (%u)", i, who[i], r.shards[i]);
    CHECK(shard_of("alice", 16) != shard_of("bob", 16), "the test's two users are in two shards");
    segment_result_free(&r);
}

int main(void)
{
    test_segment_shards();
    test_segment_cases();
    test_segment_semantics();
    test_segment_splice();
    test_segment_limits();
    return harness_summary("test_segment");
}
