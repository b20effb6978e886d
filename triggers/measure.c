/* measure.c — goals, holdouts and the record of a firing that may convert
 * (measure.h). */
#include "measure.h"
#include "counter.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int load_holdout(struct measure *m, json_t *holdout, const struct diag *d)
{
    const char *s = json_string_value(holdout);
    if (s && util_parse_share(s, &m->holdout) == 0)
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

const char *measure_goal_id(const struct measure *m)
{
    return m->goal ? m->goal->field + 2 : NULL; /* "w:" + 12 hex */
}

bool measure_goal_hit(const struct measure *m, const struct message *msg, const struct eval_ctx *ctx)
{
    return m->goal && msg->type == MESSAGE_TRACK && counter_hit(m->goal, msg, ctx);
}

void measure_record(char out[MEASURE_RECORD_LEN], const struct measure *m, int64_t at, bool held_out)
{
    snprintf(out, MEASURE_RECORD_LEN, "%c %lld %lld %s", held_out ? 'h' : 't', (long long)at,
             (long long)(at + m->goal->window_ms), measure_goal_id(m));
}

/* Reads a number and the space after it at *P; false when there is none. */
static bool number(const char **p, long long *v)
{
    char *end;
    errno = 0;
    *v = strtoll(*p, &end, 10);
    if (end == *p || errno || *end != ' ')
        return false;
    *p = end + 1;
    return true;
}

enum measure_check measure_check(const char *rec, const char *hits, int64_t ts, bool *held_out)
{
    long long at, deadline;
    const char *p = rec + 2;
    if ((rec[0] != 't' && rec[0] != 'h') || rec[1] != ' ' || !number(&p, &at) || !number(&p, &deadline) ||
        strlen(p) != MEASURE_GOAL_ID_LEN - 1 || deadline < ts)
        return MEASURE_ENDED;
    const char *hit = strstr(hits, p);
    if (at >= ts || hit == NULL || hit == hits || hit[-1] != ' ' || hit[MEASURE_GOAL_ID_LEN - 1] != ' ')
        return MEASURE_OPEN;
    *held_out = rec[0] == 'h';
    return MEASURE_CONVERTS;
}
