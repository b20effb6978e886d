/* measure.c — goals, holdouts and the record of a firing that may convert
 * (measure.h). */
#include "measure.h"
#include "counter.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int measure_parse_share(const char *s, uint32_t *buckets)
{
    uint32_t whole = 0, frac = 0;
    int nwhole = 0, nfrac = 0;
    for (; *s >= '0' && *s <= '9' && nwhole < 4; s++, nwhole++)
        whole = whole * 10 + (uint32_t)(*s - '0');
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9' && nfrac < 3; s++, nfrac++)
            frac = frac * 10 + (uint32_t)(*s - '0');
    if (nwhole == 0 || nfrac > 2 || s[0] != '%' || s[1] != '\0')
        return -1;
    if (nfrac == 1)
        frac *= 10;
    uint32_t b = whole * 100 + frac;
    if (b > MEASURE_BUCKETS)
        return -1;
    *buckets = b;
    return 0;
}

static int load_holdout(struct measure *m, json_t *holdout, const struct diag *d)
{
    const char *s = json_string_value(holdout);
    if (s && measure_parse_share(s, &m->holdout) == 0)
        return 0;
    if (s)
        errlist_diag(d, "holdout",
                     "\"%s\" is not a share: write a percentage from \"0%%\" to \"100%%\", such as \"10%%\"", s);
    else
        errlist_diag(d, "holdout", "needs a share as a string, such as \"10%%\"");
    return -1;
}

int measure_load(struct measure *m, json_t *goal, json_t *holdout, const struct diag *d)
{
    int bad = 0;
    *m = (struct measure){NULL, 0};
    if (goal && (m->goal = counter_compile(goal, "goal", d)) == NULL)
        bad = 1;
    if (holdout && load_holdout(m, holdout, d) != 0)
        bad = 1;
    return bad ? -1 : 0;
}

void measure_clear(struct measure *m)
{
    counter_free(m->goal);
    m->goal = NULL;
}

bool measure_counted(const struct measure *m)
{
    return m->goal != NULL || m->holdout > 0;
}

uint32_t measure_bucket(const char *trigger, const char *customer)
{
    uint64_t h = util_fnv1a64(UTIL_FNV64_BASIS, trigger, strlen(trigger) + 1);
    h = util_fnv1a64(h, customer, strlen(customer) + 1);
    return (uint32_t)(util_fmix64(h) % MEASURE_BUCKETS);
}

bool measure_held_out(const struct measure *m, const char *trigger, const char *customer)
{
    return m->holdout > 0 && measure_bucket(trigger, customer) < m->holdout;
}

bool measure_goal_hit(const struct measure *m, const struct message *msg, const struct eval_ctx *ctx)
{
    return m->goal && msg->type == MESSAGE_TRACK && counter_hit(m->goal, msg, ctx);
}

void measure_window(const struct measure *m, int64_t ts, int64_t *lo, int64_t *hi)
{
    *lo = ts - (m->goal ? m->goal->window_ms : 0);
    *hi = ts;
}

void measure_open(json_t *fields, const char *trigger, int64_t ms, bool held_out)
{
    char key[80], val[UTIL_I64_LEN + 3];
    snprintf(key, sizeof key, MEASURE_FIELD_PREFIX "%s", trigger);
    snprintf(val, sizeof val, "%lld %c", (long long)ms, held_out ? 'h' : 't');
    json_object_set_new(fields, key, json_string(val));
}

bool measure_convert(json_t *fields, const struct measure *m, const char *trigger, int64_t ts, bool *held_out)
{
    char key[80], arm;
    long long at;
    int64_t lo, hi;
    snprintf(key, sizeof key, MEASURE_FIELD_PREFIX "%s", trigger);
    const char *v = json_string_value(json_object_get(fields, key));
    if (v == NULL || sscanf(v, "%lld %c", &at, &arm) != 2)
        return false;
    measure_window(m, ts, &lo, &hi);
    if (at < lo || at >= hi)
        return false;
    *held_out = arm == 'h';
    json_object_del(fields, key);
    return true;
}
