/* test_date.c — when a profile's date comes due: a date at 09:00 local,
 * at midnight, across Amsterdam's DST changes, 29 February in other years,
 * offsets, timestamps, and dates already past. */
#include "date.h"
#include "harness.h"
#include "message.h"
#include "tz.h"

static int64_t at(const char *iso)
{
    int64_t ms = -1;
    if (message_parse_time(iso, &ms) != 0)
        return -2;
    return ms;
}

static void test_due(void)
{
    static const struct {
        const char *name, *value, *zone;
        int at_min;
        const char *offset; /* a duration, "-" first for before */
        bool every;
        const char *after, *want; /* want NULL: never */
    } cases[] = {
        {"a date at 09:00 local (winter)", "2026-12-24", "Europe/Amsterdam", -1, NULL, false, "2026-12-01T00:00:00Z",
         "2026-12-24T08:00:00Z"},
        {"a date at 09:00 local (summer)", "2026-07-01", "Europe/Amsterdam", -1, NULL, false, "2026-06-01T00:00:00Z",
         "2026-07-01T07:00:00Z"},
        {"at midnight", "2026-12-24", "UTC", 0, NULL, false, "2026-12-01T00:00:00Z", "2026-12-24T00:00:00Z"},
        {"on the day DST starts", "2026-03-29", "Europe/Amsterdam", 9 * 60, NULL, false, "2026-03-01T00:00:00Z",
         "2026-03-29T07:00:00Z"},
        {"on the day DST ends", "2026-10-25", "Europe/Amsterdam", 9 * 60, NULL, false, "2026-10-01T00:00:00Z",
         "2026-10-25T08:00:00Z"},
        {"a date already past does not come due", "2026-01-10", "UTC", -1, NULL, false, "2026-02-01T00:00:00Z", NULL},
        {"the moment itself is not after", "2026-12-24", "UTC", 0, NULL, false, "2026-12-24T00:00:00Z", NULL},
        {"a birthday: the next one", "1990-05-17", "Europe/Amsterdam", -1, NULL, true, "2026-06-01T00:00:00Z",
         "2027-05-17T07:00:00Z"},
        {"a birthday later this year", "1990-12-24", "UTC", -1, NULL, true, "2026-06-01T00:00:00Z",
         "2026-12-24T09:00:00Z"},
        {"29 February in a year without it", "2000-02-29", "UTC", -1, NULL, true, "2026-01-01T00:00:00Z",
         "2026-02-28T09:00:00Z"},
        {"29 February in a leap year", "2000-02-29", "UTC", -1, NULL, true, "2028-01-01T00:00:00Z",
         "2028-02-29T09:00:00Z"},
        {"three days before a trial ends", "2026-12-20T15:30:00Z", "UTC", -1, "3d", false, "2026-12-01T00:00:00Z",
         "2026-12-17T15:30:00Z"},
        {"a timestamp at 09:00 on its local day", "2026-12-20T23:30:00Z", "Asia/Tokyo", 9 * 60, NULL, false,
         "2026-12-01T00:00:00Z", "2026-12-21T00:00:00Z"},
        {"no zone: the default's", "2026-12-24", NULL, -1, NULL, false, "2026-12-01T00:00:00Z", "2026-12-24T08:00:00Z"},
        {"not a date", "next tuesday", "UTC", -1, NULL, true, "2026-12-01T00:00:00Z", NULL},
        {"no such day", "2026-02-31", "UTC", -1, NULL, true, "2026-01-01T00:00:00Z", NULL},
    };
    struct tz_cache *cache = tz_cache_new(NULL);
    struct tz_zone zone_of = {cache, "Europe/Amsterdam"};
    struct eval_zone zone = {tz_zone_offset, &zone_of};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct date_rule rule = {cases[i].at_min, 0, cases[i].every};
        if (cases[i].offset)
            rule.offset_ms = -at("1970-01-04T00:00:00Z"); /* 3d before */
        int64_t got = date_due(&rule, cases[i].value, &zone, cases[i].zone, at(cases[i].after));
        int64_t want = cases[i].want ? at(cases[i].want) : -1;
        char shown[40] = "never";
        if (got >= 0)
            message_format_time(got, shown, sizeof shown);
        CHECK(got == want, "%s: got %s, want %s", cases[i].name, shown, cases[i].want ? cases[i].want : "never");
    }
    tz_cache_free(cache);
}

int main(void)
{
    test_due();
    return harness_summary("test_date");
}
