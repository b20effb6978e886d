/* message.c — the gate every event passes: is it a Segment message we can use?
 *
 * An invalid message is never dropped silently; the reason written here goes
 * with it to the rejected stream, so it must say what a website developer
 * has to fix.
 */
#include "message.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (*(*p)++ - '0');
    }
    *out = v;
    return 0;
}

static int expect(const char **p, char c)
{
    if (**p != c)
        return -1;
    (*p)++;
    return 0;
}

int64_t message_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int parse_zone(const char **p, int64_t *offset_ms)
{
    int hh, mm;
    *offset_ms = 0;
    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        return 0;
    }
    if (**p != '+' && **p != '-')
        return -1;
    int sign = **p == '-' ? -1 : 1;
    (*p)++;
    if (digits(p, 2, &hh) != 0)
        return -1;
    if (**p == ':')
        (*p)++;
    if (digits(p, 2, &mm) != 0 || hh > 23 || mm > 59)
        return -1;
    *offset_ms = sign * ((int64_t)hh * 3600000 + (int64_t)mm * 60000);
    return 0;
}

int message_parse_time(const char *s, int64_t *out_ms)
{
    int y, mo, d, h, mi, sec, ms = 0;
    const char *p = s;
    if (digits(&p, 4, &y) || expect(&p, '-') || digits(&p, 2, &mo) || expect(&p, '-') || digits(&p, 2, &d))
        return -1;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -1;
    p++;
    if (digits(&p, 2, &h) || expect(&p, ':') || digits(&p, 2, &mi) || expect(&p, ':') || digits(&p, 2, &sec))
        return -1;
    if (*p == '.') {
        p++;
        int scale = 100, n = 0;
        while (isdigit((unsigned char)*p)) {
            ms += (*p++ - '0') * scale;
            scale /= 10;
            n++;
        }
        if (n == 0)
            return -1;
    }
    int64_t off;
    if (parse_zone(&p, &off) != 0 || *p != '\0')
        return -1;
    /* A day the month has (2026-02-31 is no date), a year from 1 (0000 is
     * no year of ISO 8601's common form). */
    static const int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > month_days[mo - 1] || (mo == 2 && d == 29 && !leap) || h > 23 ||
        mi > 59 || sec > 60)
        return -1;
    int64_t days = message_days_from_civil(y, mo, d);
    *out_ms = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)sec * 1000 + ms - off;
    return 0;
}

/* Writes V as exactly N digits at P (V < 10^N). */
static char *put_digits(char *p, int64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + n;
}

/* By arithmetic (H. Hinnant's civil_from_days), not gmtime_r and strftime:
 * it runs for every event without a timestamp, and glibc's gmtime_r reads
 * the TZ environment each time. Years 0 to 9999. */
void message_format_time(int64_t ms, char *out, size_t outlen)
{
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000, days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t sod = secs - days * 86400, z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    char buf[32], *p = buf;
    if (y < 0 || y > 9999 || outlen < 25) { /* outside ISO-8601's four digits: not an event time */
        snprintf(out, outlen, "%s", outlen >= 25 ? "0000-01-01T00:00:00.000Z" : "");
        return;
    }
    p = put_digits(p, y, 4);
    *p++ = '-';
    p = put_digits(p, m, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    *p++ = 'T';
    p = put_digits(p, sod / 3600, 2);
    *p++ = ':';
    p = put_digits(p, sod / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, sod % 60, 2);
    *p++ = '.';
    p = put_digits(p, ms - secs * 1000, 3);
    *p++ = 'Z';
    *p = '\0';
    memcpy(out, buf, (size_t)(p - buf) + 1);
}

static const char *const type_names[MESSAGE_TYPES] = {"track", "page", "identify", "alias", "screen", "group"};
#define TYPE_LIST "track, page, screen, identify, group or alias"

int message_type_parse(const char *name)
{
    for (int i = 0; name && i < MESSAGE_TYPES; i++)
        if (strcmp(name, type_names[i]) == 0)
            return i;
    return -1;
}

const char *message_type_name(enum message_type t)
{
    return type_names[t];
}

static int check_id(json_t *msg, const char *key, const char **out, char *err, size_t errlen)
{
    json_t *v = json_object_get(msg, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0) {
        snprintf(err, errlen, "%s must be a non-empty string", key);
        return -1;
    }
    if (json_string_length(v) > MESSAGE_ID_MAX || strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(err, errlen, "%s must be at most %d bytes, without NUL", key, MESSAGE_ID_MAX);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

static int check_object(json_t *msg, const char *key, char *err, size_t errlen)
{
    json_t *v = json_object_get(msg, key);
    if (v != NULL && !json_is_object(v) && !json_is_null(v)) {
        snprintf(err, errlen, "%s must be an object", key);
        return -1;
    }
    return 0;
}

static int check_type(json_t *msg, struct message *out, char *err, size_t errlen)
{
    const char *type = json_string_value(json_object_get(msg, "type"));
    if (type == NULL) {
        snprintf(err, errlen, "type is missing: it must be " TYPE_LIST);
        return -1;
    }
    int i = message_type_parse(type);
    if (i >= 0) {
        out->type = (enum message_type)i;
        out->name = type_names[i];
        return 0;
    }
    snprintf(err, errlen, "type \"%.64s\" is unknown: it must be " TYPE_LIST, type);
    return -1;
}

static int check_event(json_t *msg, struct message *out, char *err, size_t errlen)
{
    json_t *ev = json_object_get(msg, "event");
    if (out->type != MESSAGE_TRACK)
        return 0;
    if (!json_is_string(ev) || json_string_length(ev) == 0) {
        snprintf(err, errlen, "a track message needs event, the event name (a non-empty string)");
        return -1;
    }
    if (json_string_length(ev) > MESSAGE_ID_MAX || strlen(json_string_value(ev)) != json_string_length(ev)) {
        snprintf(err, errlen, "event must be at most %d bytes, without NUL", MESSAGE_ID_MAX);
        return -1;
    }
    out->name = json_string_value(ev);
    return 0;
}

static int check_time(json_t *msg, int64_t now_ms, struct message *out, char *err, size_t errlen)
{
    json_t *ts = json_object_get(msg, "timestamp");
    char iso[40];
    if (ts == NULL || json_is_null(ts)) {
        out->ts_ms = now_ms;
        message_format_time(now_ms, iso, sizeof iso);
        json_object_set_new(msg, "timestamp", json_string(iso));
        return 0;
    }
    if (!json_is_string(ts) || message_parse_time(json_string_value(ts), &out->ts_ms) != 0) {
        snprintf(err, errlen, "timestamp must be an ISO-8601 date and time such as 2026-11-22T10:00:00Z");
        return -1;
    }
    return 0;
}

int message_validate(json_t *msg, const char *entry_id, int64_t now_ms, struct message *out, char *err, size_t errlen)
{
    const char *user, *anon, *mid;
    if (!json_is_object(msg)) {
        snprintf(err, errlen, "the message must be a JSON object");
        return -1;
    }
    if (check_type(msg, out, err, errlen) || check_id(msg, "userId", &user, err, errlen) ||
        check_id(msg, "anonymousId", &anon, err, errlen) || check_id(msg, "messageId", &mid, err, errlen) ||
        check_event(msg, out, err, errlen) || check_object(msg, "properties", err, errlen) ||
        check_object(msg, "traits", err, errlen) || check_object(msg, "context", err, errlen) ||
        check_time(msg, now_ms, out, err, errlen))
        return -1;
    if (user == NULL && anon == NULL) {
        snprintf(err, errlen, "the message needs userId or anonymousId");
        return -1;
    }
    if (out->type == MESSAGE_ALIAS && !json_is_string(json_object_get(msg, "previousId"))) {
        snprintf(err, errlen, "an alias message needs previousId (a string)");
        return -1;
    }
    const char *group;
    if (out->type == MESSAGE_GROUP && (check_id(msg, "groupId", &group, err, errlen) || group == NULL)) {
        if (group == NULL)
            snprintf(err, errlen, "a group message needs groupId (a non-empty string)");
        return -1;
    }
    if (mid == NULL) {
        json_object_set_new(msg, "messageId", json_string(entry_id));
        mid = json_string_value(json_object_get(msg, "messageId"));
    }
    const char *prev = NULL;
    if (out->type == MESSAGE_ALIAS && check_id(msg, "previousId", &prev, err, errlen))
        return -1;
    out->customer = user ? user : anon;
    out->message_id = mid;
    out->merge_from = out->type == MESSAGE_ALIAS ? prev : out->type == MESSAGE_IDENTIFY && user ? anon : NULL;
    if (out->merge_from && strcmp(out->merge_from, out->customer) == 0)
        out->merge_from = NULL;
    return 0;
}
