/* test_tz.c — zone offsets from the system tzdata, winter and summer, and names that are never paths. */
#include "harness.h"
#include "tz.h"

/* Offsets from the system's tzdata: winter and summer time, and names that
 * must never become paths. */
static void test_timezones(void)
{
    struct tz_cache *tz = tz_cache_new(NULL);
    int32_t off = 12345;
    CHECK(tz_offset(tz, "Europe/Amsterdam", 1793000000000LL, &off) == 0 && off == 3600, "winter: %d", off);
    CHECK(tz_offset(tz, "Europe/Amsterdam", 1782000000000LL, &off) == 0 && off == 7200, "summer: %d", off);
    CHECK(tz_offset(tz, "America/New_York", 1795000000000LL, &off) == 0 && off == -18000, "new york: %d", off);
    CHECK(tz_offset(tz, "UTC", 1793000000000LL, &off) == 0 && off == 0, "utc: %d", off);
    CHECK(tz_offset(tz, "Asia/Kolkata", 1793000000000LL, &off) == 0 && off == 19800, "kolkata: %d", off);
    static const char *const bad[] = {"../../etc/passwd",  "/etc/passwd", "Europe/../../x", "", "Mars/Base",
                                      "Europe//Amsterdam", "a b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(tz_offset(tz, bad[i], 0, &off) != 0, "\"%s\" must not be a zone", bad[i]);
    CHECK(tz_offset_or(tz, "Mars/Base", "Europe/Amsterdam", 1793000000000LL) == 3600, "fallback to the default");
    CHECK(tz_offset_or(tz, NULL, "Nowhere/Else", 1793000000000LL) == 0, "UTC when nothing is known");
    tz_cache_free(tz);
}

int main(void)
{
    test_timezones();
    return harness_summary("test_tz");
}
