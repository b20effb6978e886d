/* customer.c — the profile's rules, the view and the lifecycle groups,
 * in one place: the daemon applies them to its copy in memory (pcache.h)
 * and commits what they changed, `nudged replay` to its own; tests run the
 * same events through both and compare the firings.
 */
#include "customer.h"
#include "util.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *field(json_t *fields, const char *name)
{
    return json_string_value(json_object_get(fields, name));
}

static void set_field(json_t *fields, const char *name, const char *value)
{
    json_object_set_new(fields, name, json_string(value));
}

static void set_int(json_t *fields, const char *name, long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    set_field(fields, name, buf);
}

void customer_update_init(struct customer_update *u, const struct message *m, json_t *msg)
{
    memset(u, 0, sizeof *u);
    u->name = m->name;
    u->ts_ms = m->ts_ms;
    u->identified = json_is_string(json_object_get(msg, "userId"));
    json_t *props = json_object_get(msg, "properties");
    if (m->type == MESSAGE_TRACK && strcmp(m->name, CUSTOMER_ORDER_EVENT) == 0) {
        json_t *r = json_object_get(props, "revenue");
        if (!json_is_number(r))
            r = json_object_get(props, "total");
        /* Revenue within a quadrillion either way: a sum of such can never
         * overflow to infinity (which rendered as null). */
        u->has_revenue = json_is_number(r) && fabs(json_number_value(r)) < CUSTOMER_REVENUE_MAX;
        u->revenue = u->has_revenue ? json_number_value(r) : 0;
    }
    json_t *context = json_object_get(msg, "context"), *traits = json_object_get(msg, "traits");
    json_t *ctraits = json_object_get(context, "traits");
    u->tz = json_string_value(json_object_get(context, "timezone"));
    if (json_is_object(ctraits) && json_object_size(ctraits) > 0)
        u->traits = json_deep_copy(ctraits);
    if (m->type == MESSAGE_IDENTIFY && json_is_object(traits) && json_object_size(traits) > 0) {
        if (u->traits == NULL)
            u->traits = json_object();
        json_object_update_recursive(u->traits, traits);
    }
    if (m->type == MESSAGE_GROUP) { /* the latest group replaces the one before */
        if (u->traits == NULL)
            u->traits = json_object();
        json_t *g = json_pack("{s:O, s:o}", "id", json_object_get(msg, "groupId"), "traits",
                              json_is_object(traits) ? json_deep_copy(traits) : json_object());
        json_object_set_new(u->traits, "group", g);
    }
}

void customer_update_clear(struct customer_update *u)
{
    json_decref(u->traits);
    u->traits = NULL;
}

char *customer_trait_merge(const char *old, const char *new_)
{
    json_t *o = old ? json_loads(old, JSON_DECODE_ANY, NULL) : NULL, *n = json_loads(new_, JSON_DECODE_ANY, NULL);
    char *out = NULL;
    if (json_is_object(o) && json_is_object(n)) {
        json_object_update_recursive(o, n);
        out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    }
    json_decref(o);
    json_decref(n);
    return out ? out : util_xstrdup(new_);
}

bool customer_event_stats(const char *v, long long *n, long long *first, long long *last)
{
    long long x[3];
    char *end;
    for (int i = 0; i < 3; i++) {
        if (v == NULL || (i > 0 && *v++ != ' '))
            return false;
        x[i] = strtoll(v, &end, 10);
        if (end == v)
            return false;
        v = end;
    }
    if (*v != '\0')
        return false;
    *n = x[0];
    *first = x[1];
    *last = x[2];
    return true;
}

/* PREFIX (two characters) and NAME as a field name in KEY (LEN bytes),
 * cut at LEN as snprintf would: these run for every event, and a format
 * costs more than the copy. */
static const char *key_of(char *key, size_t len, const char prefix[2], const char *name)
{
    size_t n = strlen(name);
    if (n > len - 3)
        n = len - 3;
    memcpy(key, prefix, 2);
    memcpy(key + 2, name, n);
    key[2 + n] = '\0';
    return key;
}

/* "count first last" as the field e:NAME holds it, into VAL. */
static void put_stats(char val[3 * UTIL_I64_LEN], long long n, long long first, long long last)
{
    char buf[UTIL_I64_LEN], *o = val;
    const long long x[] = {n, first, last};
    for (int i = 0; i < 3; i++) {
        const char *s = util_i64(buf, x[i]);
        size_t len = strlen(s);
        if (i > 0)
            *o++ = ' ';
        memcpy(o, s, len);
        o += len;
    }
    *o = '\0';
}

/* "count first last" of an event name; 0 when absent. */
static long long event_stats(json_t *fields, const char *name, long long *first, long long *last)
{
    char key[600];
    long long n = 0;
    key_of(key, sizeof key, "e:", name);
    if (!customer_event_stats(field(fields, key), &n, first, last))
        return 0;
    return n;
}

static bool trait_true(json_t *fields, const char *name)
{
    char key[300];
    const char *v = field(fields, key_of(key, sizeof key, "t:", name));
    return v && strcmp(v, "true") == 0;
}

const char *const customer_group_names[CUSTOMER_NGROUPS] = {"active", "inactive", "potential", "interested",
                                                            "excluded"};

const char *customer_group_name(const char *g)
{
    for (size_t i = 0; i < CUSTOMER_NGROUPS; i++)
        if (strcmp(g, customer_group_names[i]) == 0)
            return customer_group_names[i];
    return NULL;
}

const char *customer_group(json_t *fields, int64_t now_ms, int64_t active_ms)
{
    long long first = 0, last = 0;
    const char *x = field(fields, "x"), *u = field(fields, "u");
    if ((x && strcmp(x, "1") == 0) || trait_true(fields, "unsubscribed"))
        return "excluded";
    if (event_stats(fields, CUSTOMER_ORDER_EVENT, &first, &last) > 0)
        return now_ms - last <= active_ms ? "active" : "inactive";
    if ((u && strcmp(u, "1") == 0) || json_object_get(fields, "t:email"))
        return "potential";
    return "interested";
}

/* Appends to T (N so far, room for CAP) the space-separated times in V
 * that are at or after MIN; returns the new count. */
static size_t read_times(const char *v, long long min, long long *t, size_t n, size_t cap)
{
    while (v && *v) {
        char *end;
        long long x = strtoll(v, &end, 10);
        if (end == v)
            break;
        if (x >= min && n < cap)
            t[n++] = x;
        v = end;
    }
    return n;
}

/* Stores the last KEEP of the N times T in FIELDS[NAME], space-separated. */
static void store_times(json_t *fields, const char *name, const long long *t, size_t n, size_t keep)
{
    size_t from = n > keep ? n - keep : 0;
    struct buf b;
    util_buf_init(&b, 32 * (COUNTER_KEEP + 1));
    for (size_t i = from; i < n; i++)
        if (util_buf_printf(&b, i > from ? " %lld" : "%lld", t[i]) != 0)
            break;
    char *s = util_buf_steal(&b);
    set_field(fields, name, s);
    free(s);
}

/* Appends T to the space-separated times in FIELDS[NAME], keeping those
 * at or after MIN and at most KEEP of them (the newest). */
static void push_time(json_t *fields, const char *name, long long t, long long min, size_t keep)
{
    long long times[COUNTER_KEEP + 1];
    size_t n = read_times(field(fields, name), min, times, 0, COUNTER_KEEP);
    times[n++] = t;
    store_times(fields, name, times, n, keep);
}

/* Notes in BEFORE (when given) the value field NAME of FIELDS had when
 * this application first touched it (null: none). */
static void keep(json_t *before, json_t *fields, const char *name)
{
    if (before && json_object_get(before, name) == NULL) {
        json_t *old = json_object_get(fields, name);
        json_object_set(before, name, old ? old : json_null());
    }
}

/* set_field, noted in BEFORE. */
static void apply_field(json_t *fields, json_t *before, const char *name, const char *value)
{
    keep(before, fields, name);
    set_field(fields, name, value);
}

const char *customer_apply(json_t *fields, const struct customer_update *u, int64_t now_ms, int64_t active_ms,
                           json_t *before)
{
    long long first = u->ts_ms, last = u->ts_ms, n = event_stats(fields, u->name, &first, &last);
    char key[600], val[80];
    key_of(key, sizeof key, "e:", u->name);
    put_stats(val, n + 1, first < u->ts_ms ? first : (long long)u->ts_ms, last > u->ts_ms ? last : (long long)u->ts_ms);
    apply_field(fields, before, key, val);
    const char *known = u->identified ? field(fields, "u") : NULL;
    if (u->identified && !(known && strcmp(known, "1") == 0))
        apply_field(fields, before, "u", "1");
    if (u->tz)
        apply_field(fields, before, "tz", u->tz);
    if (u->has_revenue) {
        const char *rv = field(fields, "rv");
        snprintf(val, sizeof val, "%.15g", (rv ? strtod(rv, NULL) : 0) + u->revenue);
        apply_field(fields, before, "rv", val);
    }
    const char *name;
    json_t *tv;
    json_object_foreach(u->traits, name, tv)
    {
        char *dump = json_dumps(tv, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
        key_of(key, sizeof key, "t:", name);
        if (dump) {
            char *merged = customer_trait_merge(field(fields, key), dump);
            apply_field(fields, before, key, merged);
            free(merged);
        }
        free(dump);
    }
    for (size_t i = 0; i < u->ncounters; i++) {
        keep(before, fields, u->counters[i]->field);
        push_time(fields, u->counters[i]->field, u->ts_ms, u->ts_ms - u->counters[i]->window_ms, COUNTER_KEEP);
    }
    return customer_regroup(fields, now_ms, active_ms, before);
}

const char *customer_regroup(json_t *fields, int64_t now_ms, int64_t active_ms, json_t *before)
{
    const char *was = field(fields, "g");
    const char *g = customer_group(fields, now_ms, active_ms);
    if (was && strcmp(was, g) == 0)
        return NULL; /* left as it is: a commit writes only what changed */
    apply_field(fields, before, "g", g);
    return g;
}

void customer_set(json_t *fields, json_t *before, const char *name, const char *value)
{
    keep(before, fields, name);
    if (value)
        set_field(fields, name, value);
    else
        json_object_del(fields, name);
}

bool customer_limit_allows(json_t *fields, const struct trigger *t, int64_t now_ms)
{
    int64_t max, per;
    char key[80];
    long long times[COUNTER_KEEP + 1];
    if (!trigger_limit(t, &max, &per))
        return true;
    snprintf(key, sizeof key, "l:%s", trigger_id(t));
    return (int64_t)read_times(field(fields, key), per ? now_ms - per : LLONG_MIN, times, 0, COUNTER_KEEP) < max;
}

bool customer_cap_take(json_t *fields, json_t *before, int64_t max, int64_t per_ms, int64_t now_ms)
{
    long long times[COUNTER_KEEP + 1];
    size_t n = read_times(field(fields, "ce"), now_ms - per_ms, times, 0, COUNTER_KEEP);
    if ((int64_t)n >= max)
        return false;
    keep(before, fields, "ce");
    times[n++] = now_ms;
    store_times(fields, "ce", times, n, (size_t)max);
    return true;
}

void customer_fired(json_t *fields, json_t *before, const struct trigger *t, const struct action_out *out, size_t n,
                    int64_t now_ms)
{
    int64_t max, per;
    char key[80];
    if (trigger_limit(t, &max, &per)) {
        snprintf(key, sizeof key, "l:%s", trigger_id(t));
        keep(before, fields, key);
        push_time(fields, key, now_ms, per ? now_ms - per : INT64_MIN, (size_t)max);
    }
    for (size_t i = 0; i < n; i++) {
        if (out[i].kind == ACTION_SCORE) {
            const char *sc = field(fields, "sc");
            keep(before, fields, "sc");
            set_int(fields, "sc", (sc ? strtoll(sc, NULL, 10) : 0) + out[i].score);
        } else if (out[i].kind == ACTION_SET) {
            const char *k;
            json_t *v;
            json_object_foreach(out[i].set, k, v)
            {
                if (strcmp(k, "group") == 0) {
                    apply_field(fields, before, "x", "1");
                    continue;
                }
                char *dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                char tk[300];
                snprintf(tk, sizeof tk, "t:%s", k + 7);
                if (dump)
                    apply_field(fields, before, tk, dump);
                free(dump);
            }
        }
    }
}

static json_t *iso(long long ms)
{
    char buf[40];
    message_format_time(ms, buf, sizeof buf);
    return json_string(buf);
}

static json_t *times_array(const char *v)
{
    json_t *a = json_array();
    while (v && *v) {
        char *end;
        long long x = strtoll(v, &end, 10);
        if (end == v)
            break;
        json_array_append_new(a, json_integer(x));
        v = end;
    }
    return a;
}

static json_t *number(const char *v)
{
    double d = v ? strtod(v, NULL) : 0;
    if (d == floor(d) && fabs(d) < 9e15)
        return json_integer((json_int_t)d);
    return json_real(d);
}

/* Adds field K (value V) of the profile hash to VIEW and STATE; SEEN
 * widens to the first and last times of the events. */
static void add_field(json_t *view, json_t *state, const char *k, const char *v, long long seen[2])
{
    json_t *traits = json_object_get(view, "traits"), *events = json_object_get(view, "events");
    long long n, first, last;
    if (strncmp(k, "e:", 2) == 0 && customer_event_stats(v, &n, &first, &last)) {
        json_object_set_new(
            events, k + 2,
            json_pack("{s:I, s:o, s:o}", "count", (json_int_t)n, "first", iso(first), "last", iso(last)));
        seen[0] = first < seen[0] ? first : seen[0];
        seen[1] = last > seen[1] ? last : seen[1];
    } else if (strncmp(k, "t:", 2) == 0) {
        json_t *tv = json_loads(v, JSON_DECODE_ANY, NULL);
        json_object_set_new(traits, k + 2, tv ? tv : json_string(v));
    } else if (strncmp(k, "w:", 2) == 0 || strncmp(k, "l:", 2) == 0) {
        json_object_set_new(state, k, times_array(v));
    } else if (strcmp(k, "tz") == 0) {
        json_object_set_new(view, "timezone", json_string(v));
    }
}

json_t *customer_view(const char *id, json_t *fields, int64_t now_ms, int64_t active_ms, json_t **state)
{
    json_t *view = json_pack("{s:s, s:{}, s:{}}", "id", id, "traits", "events");
    *state = json_object();
    const char *k;
    json_t *v;
    long long seen[2] = {LLONG_MAX, LLONG_MIN};
    json_object_foreach(fields, k, v)
    {
        if (json_is_string(v))
            add_field(view, *state, k, json_string_value(v), seen);
    }
    if (seen[0] <= seen[1]) { /* every applied event is in its name's stats: no fields of their own */
        json_object_set_new(view, "first_seen", iso(seen[0]));
        json_object_set_new(view, "last_seen", iso(seen[1]));
    }
    long long first = 0, last = 0, orders = event_stats(fields, CUSTOMER_ORDER_EVENT, &first, &last);
    json_object_set_new(view, "orders", json_integer(orders));
    json_object_set_new(view, "revenue", number(field(fields, "rv")));
    if (orders > 0)
        json_object_set_new(view, "last_order", iso(last));
    json_object_set_new(view, "score", number(field(fields, "sc")));
    json_object_set_new(view, "group", json_string(customer_group(fields, now_ms, active_ms)));
    return view;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* The times of A and B together, sorted, the newest COUNTER_KEEP. */
static void join_times(json_t *into, const char *k, const char *a, const char *b)
{
    long long t[2 * COUNTER_KEEP + 2];
    size_t n = read_times(a, LLONG_MIN, t, 0, sizeof t / sizeof t[0]);
    n = read_times(b, LLONG_MIN, t, n, sizeof t / sizeof t[0]);
    qsort(t, n, sizeof t[0], cmp_ll);
    store_times(into, k, t, n, COUNTER_KEEP);
}

static void merge_field(json_t *into, const char *k, const char *v)
{
    const char *u = field(into, k);
    long long a1, b1, c1, a2, b2, c2;
    char val[80];
    if (strncmp(k, "e:", 2) == 0 && u && customer_event_stats(v, &a1, &b1, &c1) &&
        customer_event_stats(u, &a2, &b2, &c2)) {
        put_stats(val, a1 + a2, b1 < b2 ? b1 : b2, c1 > c2 ? c1 : c2);
        set_field(into, k, val);
    } else if (strncmp(k, "w:", 2) == 0 || strncmp(k, "l:", 2) == 0) {
        join_times(into, k, v, u);
    } else if ((strcmp(k, "u") == 0 || strcmp(k, "x") == 0) && strcmp(v, "1") == 0) {
        set_field(into, k, "1");
    } else if (strcmp(k, "rv") == 0 && u) {
        snprintf(val, sizeof val, "%.15g", strtod(v, NULL) + strtod(u, NULL));
        set_field(into, k, val);
    } else if (strcmp(k, "sc") == 0 && u) {
        set_int(into, k, strtoll(v, NULL, 10) + strtoll(u, NULL, 10));
    } else if (u == NULL) {
        set_field(into, k, v);
    }
}

void customer_merge(json_t *into, json_t *from, json_t *before)
{
    const char *k;
    json_t *v;
    json_object_foreach(from, k, v)
    {
        if (json_is_string(v)) {
            keep(before, into, k);
            merge_field(into, k, json_string_value(v));
        }
    }
}

static const char *const local_parts[] = {"hour", "weekday", "date"};

bool customer_local_part(const char *name)
{
    for (size_t i = 0; i < sizeof local_parts / sizeof local_parts[0]; i++)
        if (strcmp(name, local_parts[i]) == 0)
            return true;
    return false;
}

void customer_add_local(json_t *view, int64_t now_ms, int32_t offset_s)
{
    static const char *const weekdays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    int64_t local_ms = now_ms + (int64_t)offset_s * 1000;
    char iso[40]; /* YYYY-MM-DDTHH:MM:SS.mmmZ: the local wall clock, written as UTC's */
    message_format_time(local_ms, iso, sizeof iso);
    int64_t days = local_ms >= 0 ? local_ms / 86400000 : -((-local_ms + 86399999) / 86400000);
    int hour = (iso[11] - '0') * 10 + (iso[12] - '0');
    /* 1970-01-01 was a Thursday: day 0 is weekday 3 counted from Monday. */
    const char *weekday = weekdays[((days + 3) % 7 + 7) % 7];
    json_object_set_new(view, "local",
                        json_pack("{s:i, s:s, s:s#}", "hour", hour, "weekday", weekday, "date", iso, (int)10));
}

int64_t customer_last_event_ms(json_t *fields, const char *name)
{
    long long first, last = -1;
    if (name)
        return event_stats(fields, name, &first, &last) > 0 ? last : -1;
    const char *k;
    json_t *v;
    json_object_foreach(fields, k, v)
    {
        long long n, f, l;
        if (strncmp(k, "e:", 2) == 0 && json_is_string(v) && customer_event_stats(json_string_value(v), &n, &f, &l) &&
            l > last)
            last = l;
    }
    return last;
}
