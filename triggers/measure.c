/* measure.c — goals, holdouts and the record of a firing that may convert
 * (measure.h). */
#include "measure.h"
#include "counter.h"
#include "util.h"

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

void measure_record(char out[MEASURE_RECORD_LEN], const char *trigger, const struct measure *m, int64_t at,
                    bool held_out)
{
    snprintf(out, MEASURE_RECORD_LEN, ";%s %c %lld %lld %s", trigger, held_out ? 'h' : 't', (long long)at,
             (long long)(at + m->goal->window_ms), measure_goal_id(m));
}

/* One record of a records string, parsed in place. */
struct record {
    const char *start, *end; /* the whole record, from its ';' */
    const char *id;
    size_t idlen;
    char arm;
    long long at, deadline;
    char goal[MEASURE_GOAL_ID_LEN];
};

/* Parses the record at *P (a ';') and moves *P to the next; false at the
 * end, or for a record that is not one (skipped: it is dropped on write). */
static bool next_record(const char **p, struct record *r, bool *ok)
{
    if (*p == NULL || **p != ';')
        return false;
    r->start = *p;
    const char *e = strchr(*p + 1, ';');
    r->end = e ? e : *p + strlen(*p);
    *p = r->end;
    const char *sp = memchr(r->start + 1, ' ', (size_t)(r->end - r->start - 1));
    int n = -1;
    *ok = sp && sscanf(sp, " %c %lld %lld %12[0-9a-f]%n", &r->arm, &r->at, &r->deadline, r->goal, &n) == 4 &&
          sp + n == r->end && (r->arm == 't' || r->arm == 'h');
    r->id = r->start + 1;
    r->idlen = sp ? (size_t)(sp - r->id) : 0;
    return true;
}

static void append(struct buf *b, const char *s, size_t n)
{
    if (util_buf_add(b, s, n) != 0)
        util_fatal("out of memory");
}

char *measure_put(const char *open, const char *record, int64_t at)
{
    struct buf b;
    struct record r;
    bool ok;
    const char *id = record + 1, *sp = strchr(id, ' ');
    size_t idlen = sp ? (size_t)(sp - id) : strlen(id), others = 0;
    for (const char *p = open; next_record(&p, &r, &ok);)
        if (!(r.idlen == idlen && memcmp(r.id, id, idlen) == 0))
            others += (size_t)(r.end - r.start);
    util_buf_init(&b, SIZE_MAX);
    for (const char *p = open; next_record(&p, &r, &ok);)
        if ((others <= MEASURE_PRUNE_LEN || (ok && r.deadline >= at)) &&
            !(r.idlen == idlen && memcmp(r.id, id, idlen) == 0))
            append(&b, r.start, (size_t)(r.end - r.start));
    append(&b, record, strlen(record));
    return util_buf_steal(&b);
}

char *measure_convert(const char *open, const char *hits, int64_t ts, measure_converted_fn *fn, void *data)
{
    struct buf b;
    struct record r;
    bool ok;
    char key[MEASURE_GOAL_ID_LEN + 2];
    util_buf_init(&b, SIZE_MAX);
    for (const char *p = open; next_record(&p, &r, &ok);) {
        if (!ok || r.deadline < ts)
            continue;
        snprintf(key, sizeof key, " %s ", r.goal);
        if (r.at < ts && strstr(hits, key))
            fn(data, r.id, r.idlen, r.arm == 'h');
        else
            append(&b, r.start, (size_t)(r.end - r.start));
    }
    return util_buf_steal(&b);
}
