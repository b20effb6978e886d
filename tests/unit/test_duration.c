/* test_duration.c — the DURATION form shared by config and trigger files. */
#include "duration.h"
#include "harness.h"

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

int main(void)
{
    test_durations();
    return harness_summary("test_duration");
}
