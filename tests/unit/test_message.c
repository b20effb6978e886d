/* test_message.c — the gate every event passes, and timestamps written by arithmetic. */
#include "harness.h"
#include "message.h"

#include <stdbool.h>
#include <time.h>

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

int main(void)
{
    test_messages();
    test_format_time();
    return harness_summary("test_message");
}
