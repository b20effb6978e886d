/* schedule.c — the schedule item, written and read in one place (see
 * schedule.h). */
#include "schedule.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

char *schedule_firing_item(const struct schedule_firing *f)
{
    char ets[UTIL_I64_LEN];
    json_t *item = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "k", "t", "trigger", f->trigger, "customer",
                             f->customer, "mid", f->mid, "strict", f->strict ? "1" : "0", "event",
                             f->event ? f->event : "{}", "ets", util_i64(ets, f->ets));
    char *member = item ? json_dumps(item, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(item);
    return member;
}

static char *put(char *o, const char *text, size_t len)
{
    memcpy(o, text, len);
    return o + len;
}

#define PUT(o, literal) put((o), (literal), sizeof(literal) - 1)

/* By hand, in sorted keys as jansson writes them: this runs for every
 * event while a silence trigger is loaded. */
char *schedule_trigger_item(enum schedule_kind kind, const char *trigger, const char *customer)
{
    char *out = util_xmalloc(6 * (strlen(trigger) + strlen(customer)) + 40), *o = out;
    o = PUT(o, "{\"customer\":\"");
    o = util_json_escape(o, customer);
    o = PUT(o, "\",\"k\":\"");
    *o++ = kind == SCHEDULE_DATE ? 'd' : 's';
    o = PUT(o, "\",\"trigger\":\"");
    o = util_json_escape(o, trigger);
    o = PUT(o, "\"}");
    *o = '\0';
    return out;
}

char *schedule_regroup_item(const char *customer)
{
    char *out = util_xmalloc(6 * strlen(customer) + 32), *o = out;
    o = PUT(o, "{\"customer\":\"");
    o = util_json_escape(o, customer);
    o = PUT(o, "\",\"k\":\"g\"}");
    *o = '\0';
    return out;
}

static const char *member(json_t *fields, const char *name)
{
    return json_string_value(json_object_get(fields, name));
}

static bool read_ms(json_t *fields, const char *name, int64_t *out)
{
    long long v;
    const char *s = member(fields, name);
    if (s == NULL || util_parse_int(s, &v) != 0)
        return false;
    *out = v;
    return true;
}

int schedule_read(json_t *fields, struct schedule_timer *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    const char *kind = member(fields, "k");
    if (kind && strcmp(kind, "g") == 0) {
        t->kind = SCHEDULE_REGROUP;
        t->customer = member(fields, "customer");
        if (t->customer == NULL || !read_ms(fields, "due", &t->due)) {
            snprintf(err, errlen, "a regroup timers entry without customer or due");
            return -1;
        }
        return 0;
    }
    if (kind && (strcmp(kind, "s") == 0 || strcmp(kind, "d") == 0)) {
        t->kind = kind[0] == 's' ? SCHEDULE_SILENCE : SCHEDULE_DATE;
        t->customer = member(fields, "customer");
        t->trigger = member(fields, "trigger");
        if (t->customer == NULL || t->trigger == NULL || !read_ms(fields, "due", &t->due)) {
            snprintf(err, errlen, "a silence or date timers entry without trigger, customer or due");
            return -1;
        }
        return 0;
    }
    struct schedule_firing *f = &t->firing;
    t->kind = SCHEDULE_FIRING;
    f->trigger = member(fields, "trigger");
    f->customer = member(fields, "customer");
    f->mid = member(fields, "mid");
    const char *strict = member(fields, "strict");
    f->strict = strict && strcmp(strict, "1") == 0;
    if (!f->trigger || !f->customer || !f->mid || !read_ms(fields, "ets", &f->ets)) {
        snprintf(err, errlen, "a timers entry without trigger, customer, mid, ets or event");
        return -1;
    }
    return 0;
}
