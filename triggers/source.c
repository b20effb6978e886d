/* source.c — what starts a trigger (source.h): loaded from its "on",
 * matched against a message; when a silence or a date comes due, and the
 * event a firing of one carries. */
#include "source.h"
#include "customer.h"
#include "duration.h"
#include "util.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATE_PREFIX "customer.traits."

/* {"silence": DURATION} or {"silence": DURATION, "event": NAME}. */
static int load_silence(struct source *s, json_t *on, const struct diag *d)
{
    static const char *const keys[] = {"silence", "event"};
    json_t *dur = json_object_get(on, "silence"), *ev = json_object_get(on, "event");
    int bad = errlist_unknown_keys(d, on, "on", keys, 2, "a silence") > 0;
    if (!json_is_string(dur) || duration_parse(json_string_value(dur), &s->silence_ms) != 0 || s->silence_ms <= 0) {
        char shown[80];
        snprintf(shown, sizeof shown, "%s", json_is_string(dur) ? json_string_value(dur) : "");
        errlist_diag(d, "on.silence",
                     json_is_string(dur) ? "\"%s\" is not a duration: write one such as \"30d\" or \"12h\""
                                         : "%sneeds a duration such as \"30d\" or \"12h\"",
                     shown);
        bad = 1;
    }
    if (ev && (!json_is_string(ev) || json_string_length(ev) == 0)) {
        errlist_diag(d, "on.event", "needs an event name");
        bad = 1;
    }
    s->kind = SOURCE_SILENCE;
    s->arg = ev && json_is_string(ev) ? util_xstrdup(json_string_value(ev)) : NULL;
    return bad ? -1 : 0;
}

/* A signed DURATION: "3d", "-3d". */
static int parse_offset(json_t *v, int64_t *out)
{
    const char *s = json_string_value(v);
    if (s == NULL)
        return -1;
    int sign = *s == '-' ? -1 : 1;
    if (duration_parse(s + (*s == '-' || *s == '+'), out) != 0)
        return -1;
    *out *= sign;
    return 0;
}

/* {"date": "customer.traits.NAME", "at": "HH:MM", "offset": DURATION, "every": "year"}. */
static int load_date(struct source *s, json_t *on, const struct diag *d)
{
    static const char *const keys[] = {"date", "at", "offset", "every"};
    json_t *path = json_object_get(on, "date"), *at = json_object_get(on, "at"), *off = json_object_get(on, "offset"),
           *every = json_object_get(on, "every");
    int bad = errlist_unknown_keys(d, on, "on", keys, 4, "a date") > 0;
    const char *p = json_string_value(path);
    s->kind = SOURCE_DATE;
    s->date = (struct date_rule){-1, 0, false};
    if (p == NULL || strncmp(p, DATE_PREFIX, strlen(DATE_PREFIX)) != 0 || p[strlen(DATE_PREFIX)] == '\0' ||
        strchr(p + strlen(DATE_PREFIX), '.')) {
        errlist_diag(d, "on.date",
                     "PATH must start with customer.traits. and name one trait, such as customer.traits.birthday");
        bad = 1;
    } else {
        s->arg = util_xstrdup(p + strlen(DATE_PREFIX));
    }
    if (at && (s->date.at_min = date_parse_hhmm(json_string_value(at))) < 0) {
        errlist_diag(d, "on.at", "needs a time of day such as \"09:00\" (24-hour clock)");
        bad = 1;
    }
    if (off && parse_offset(off, &s->date.offset_ms) != 0) {
        errlist_diag(d, "on.offset", "needs a duration such as \"3d\", or \"-3d\" for before");
        bad = 1;
    }
    if (every && !(json_is_string(every) && strcmp(json_string_value(every), "year") == 0)) {
        errlist_diag(d, "on.every", "can only be \"year\"");
        bad = 1;
    }
    s->date.every_year = every != NULL;
    return bad ? -1 : 0;
}

int source_load(struct source *s, json_t *on, const struct diag *d)
{
    const char *key;
    json_t *v;
    if (json_is_string(on) && json_string_length(on) > 0) {
        const char *name = json_string_value(on);
        s->kind = strcmp(name, "page") == 0       ? SOURCE_PAGE
                  : strcmp(name, "screen") == 0   ? SOURCE_SCREEN
                  : strcmp(name, "identify") == 0 ? SOURCE_IDENTIFY
                                                  : SOURCE_EVENT;
        s->arg = util_xstrdup(name);
        return 0;
    }
    if (json_is_object(on) && json_object_get(on, "silence"))
        return load_silence(s, on, d);
    if (json_is_object(on) && json_object_get(on, "date"))
        return load_date(s, on, d);
    if (json_is_object(on) && json_object_size(on) == 1) {
        json_object_foreach(on, key, v)
        {
            if (!json_is_string(v)) {
                errlist_diag(d, "on", "\"%s\" needs a string", key);
                return -1;
            }
            if (strcmp(key, "event") == 0 || strcmp(key, "page") == 0) {
                s->kind = key[0] == 'e' ? SOURCE_EVENT : SOURCE_PAGE_GLOB;
                s->arg = util_xstrdup(json_string_value(v));
                return 0;
            }
            if (strcmp(key, "value_tier") == 0) {
                const char *tier = json_string_value(v);
                if (strcmp(tier, "top") != 0 && strcmp(tier, "regular") != 0) {
                    errlist_diag(d, "on.value_tier", "\"%s\" is not a tier: top or regular", tier);
                    return -1;
                }
                s->kind = SOURCE_VALUE_TIER;
                s->arg = util_xstrdup(tier);
                return 0;
            }
            if (strcmp(key, "group") == 0) {
                const char *g = json_string_value(v);
                if (customer_group_name(g) == NULL) {
                    char hint[160];
                    errlist_diag(
                        d, "on.group",
                        "\"%s\" is not a group%s; groups are active, inactive, potential, "
                        "interested, excluded",
                        g, errlist_hint(hint, sizeof hint, util_nearest(g, customer_group_names, CUSTOMER_NGROUPS)));
                    return -1;
                }
                s->kind = SOURCE_GROUP;
                s->arg = util_xstrdup(g);
                return 0;
            }
        }
    }
    errlist_diag(d, "on",
                 "must be an event name, \"page\", \"screen\", \"identify\", {\"event\": NAME}, {\"page\": PATH_GLOB}, "
                 "{\"group\": GROUP}, {\"value_tier\": TIER}, {\"silence\": DURATION} or {\"date\": PATH}");
    return -1;
}

void source_clear(struct source *s)
{
    free(s->arg);
    s->arg = NULL;
}

bool source_matches(const struct source *s, const struct message *m, const struct eval_ctx *ctx)
{
    switch (s->kind) {
    case SOURCE_EVENT: return m->type == MESSAGE_TRACK && strcmp(m->name, s->arg) == 0;
    case SOURCE_PAGE: return m->type == MESSAGE_PAGE;
    case SOURCE_SCREEN: return m->type == MESSAGE_SCREEN;
    case SOURCE_IDENTIFY: return m->type == MESSAGE_IDENTIFY;
    case SOURCE_GROUP:
    case SOURCE_VALUE_TIER:
    case SOURCE_SILENCE:
    case SOURCE_DATE: return 0; /* started by a move or by time, not by a message */
    case SOURCE_PAGE_GLOB: {
        const char *p = json_string_value(json_object_get(json_object_get(ctx->event, "properties"), "path"));
        return m->type == MESSAGE_PAGE && p && fnmatch(s->arg, p, 0) == 0;
    }
    }
    return 0;
}

int64_t source_silence_due(const struct source *s, const struct message *m)
{
    if (s->kind != SOURCE_SILENCE)
        return -1;
    if (s->arg && (m->type != MESSAGE_TRACK || strcmp(m->name, s->arg) != 0))
        return -1;
    return m->ts_ms + s->silence_ms;
}

bool source_silence_holds(const struct source *s, json_t *fields, int64_t due)
{
    int64_t last = customer_last_event_ms(fields, s->arg);
    return last >= 0 && last + s->silence_ms == due;
}

json_t *source_silence_event(const struct source *s, const char *id, int64_t due, char *mid, size_t midlen)
{
    char iso[40], dur[32];
    message_format_time(due, iso, sizeof iso);
    snprintf(mid, midlen, "silence:%s@%lld", id, (long long)due);
    snprintf(dur, sizeof dur, "%lldms", (long long)s->silence_ms);
    json_t *ev =
        json_pack("{s:s, s:s, s:s, s:s}", "type", "silence", "silence", dur, "messageId", mid, "timestamp", iso);
    if (s->arg)
        json_object_set_new(ev, "event", json_string(s->arg));
    return ev;
}

bool source_date_touched(const struct source *s, json_t *msg)
{
    if (s->kind != SOURCE_DATE)
        return false;
    json_t *own = json_object_get(msg, "traits"), *ctx = json_object_get(json_object_get(msg, "context"), "traits");
    const char *type = json_string_value(json_object_get(msg, "type"));
    return (type && strcmp(type, "identify") == 0 && json_object_get(own, s->arg)) || json_object_get(ctx, s->arg);
}

int64_t source_date_due(const struct source *s, json_t *fields, const struct eval_zone *zone, int64_t after_ms)
{
    char key[600];
    snprintf(key, sizeof key, "t:%s", s->arg);
    const char *stored = json_string_value(json_object_get(fields, key)); /* the trait as JSON */
    json_t *v = stored ? json_loads(stored, JSON_DECODE_ANY, NULL) : NULL;
    int64_t due =
        date_due(&s->date, json_string_value(v), zone, json_string_value(json_object_get(fields, "tz")), after_ms);
    json_decref(v);
    return due;
}

json_t *source_date_event(const struct source *s, const char *id, int64_t due, char *mid, size_t midlen)
{
    char iso[40];
    message_format_time(due, iso, sizeof iso);
    snprintf(mid, midlen, "date:%s@%lld", id, (long long)due);
    return json_pack("{s:s, s:s+, s:s, s:s}", "type", "date", "date", DATE_PREFIX, s->arg, "messageId", mid,
                     "timestamp", iso);
}
