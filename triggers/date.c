/* date.c — when a profile's date comes due (see date.h). */
#include "date.h"
#include "message.h"

#include <stdio.h>
#include <string.h>

#define DAY_MS 86400000LL
#define DEFAULT_AT_MIN (9 * 60)

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int32_t offset_at(const struct eval_zone *zone, const char *name, int64_t t_ms)
{
    return zone ? zone->offset(zone->data, name, t_ms) : 0;
}

/* The moment the local wall-clock time LOCAL_MS (ms as if UTC) is in the
 * zone: the offset is looked up twice, as it may change in between (a DST
 * change); a wall-clock time a change skips comes out an hour later. */
static int64_t from_local(const struct eval_zone *zone, const char *name, int64_t local_ms)
{
    int64_t guess = local_ms - (int64_t)offset_at(zone, name, local_ms) * 1000;
    return local_ms - (int64_t)offset_at(zone, name, guess) * 1000;
}

/* The local date (Y, M, D) and minute of the day of VALUE; false when it
 * is no date. */
static bool local_parts(const char *value, const struct eval_zone *zone, const char *name, int *y, int *m, int *d,
                        int *min)
{
    int n = 0;
    if (strlen(value) == 10 && sscanf(value, "%4d-%2d-%2d%n", y, m, d, &n) == 3 && n == 10) {
        char probe[32];
        snprintf(probe, sizeof probe, "%sT00:00:00Z", value);
        int64_t ms;
        *min = -1;
        return message_parse_time(probe, &ms) == 0; /* a real day: 2026-02-31 is none */
    }
    int64_t t;
    if (message_parse_time(value, &t) != 0)
        return false;
    char iso[40];
    message_format_time(t + (int64_t)offset_at(zone, name, t) * 1000, iso, sizeof iso);
    if (sscanf(iso, "%4d-%2d-%2dT", y, m, d) != 3)
        return false;
    *min = ((iso[11] - '0') * 10 + iso[12] - '0') * 60 + (iso[14] - '0') * 10 + iso[15] - '0';
    return true;
}

/* VALUE's moment in year Y (its month and day, 28 February for 29
 * February when Y is no leap year) at minute MIN of the local day. */
static int64_t in_year(const struct date_rule *rule, int y, int m, int d, int min, const struct eval_zone *zone,
                       const char *name)
{
    if (m == 2 && d == 29 && !leap(y))
        d = 28;
    int64_t local = message_days_from_civil(y, m, d) * DAY_MS + (int64_t)min * 60000;
    return from_local(zone, name, local) + rule->offset_ms;
}

int64_t date_due(const struct date_rule *rule, const char *value, const struct eval_zone *zone, const char *zone_name,
                 int64_t after_ms)
{
    int y, m, d, min;
    if (value == NULL || !local_parts(value, zone, zone_name, &y, &m, &d, &min))
        return -1;
    bool instant = min >= 0 && rule->at_min < 0; /* a timestamp without "at": its own moment */
    if (rule->at_min >= 0 || min < 0)
        min = rule->at_min >= 0 ? rule->at_min : DEFAULT_AT_MIN;
    if (!rule->every_year) {
        int64_t t;
        int64_t due = instant && message_parse_time(value, &t) == 0 ? t + rule->offset_ms
                                                                    : in_year(rule, y, m, d, min, zone, zone_name);
        return due > after_ms ? due : -1;
    }
    char iso[40];
    message_format_time(after_ms, iso, sizeof iso);
    int from = (iso[0] - '0') * 1000 + (iso[1] - '0') * 100 + (iso[2] - '0') * 10 + (iso[3] - '0');
    for (int year = (from - 1 > y ? from - 1 : y); year <= from + 2; year++) {
        int64_t due = in_year(rule, year, m, d, min, zone, zone_name);
        if (due > after_ms)
            return due;
    }
    return -1;
}

int date_parse_hhmm(const char *s)
{
    if (s == NULL || strlen(s) != 5 || s[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    return h < 24 && m < 60 ? h * 60 + m : -1;
}
