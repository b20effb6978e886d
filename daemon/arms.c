/* arms.c — the silences and dates a round arms (arms.h). */
#include "arms.h"
#include "schedule.h"
#include "util.h"

#include <stdlib.h>

/* One item to arm: its customer (borrowed from the entry), whether it
 * only moves later (a silence), when, and its member (owned). */
struct arm {
    const char *customer;
    bool later;
    int64_t due;
    char *member;
};

struct arms {
    struct arm *a;
    size_t n, cap;
};

struct arms *arms_new(void)
{
    return util_xcalloc(1, sizeof(struct arms));
}

void arms_free(struct arms *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->n; i++)
        free(a->a[i].member);
    free(a->a);
    free(a);
}

static void put(struct arms *a, const struct entry *e, const struct trigger *t, enum schedule_kind kind, int64_t due)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 16;
        a->a = util_xrealloc(a->a, a->cap * sizeof *a->a);
    }
    a->a[a->n++] = (struct arm){e->m.customer, kind == SCHEDULE_SILENCE, due,
                                schedule_trigger_item(kind, trigger_id(t), e->m.customer)};
}

void arms_add(struct arms *a, const struct trigger_set *set, const struct entry *e, const struct eval_zone *zone)
{
    size_t ns, nd;
    const struct trigger *const *sil = trigger_set_silences(set, &ns);
    const struct trigger *const *dates = trigger_set_dates(set, &nd);
    if (e->date && e->rearm > 0) {
        const struct trigger *t = trigger_set_find(set, e->tid);
        if (t)
            put(a, e, t, SCHEDULE_DATE, e->rearm);
        return;
    }
    if (e->timer)
        return;
    for (size_t k = 0; k < ns; k++) {
        int64_t due = trigger_silence_due(sil[k], &e->m);
        if (due >= 0)
            put(a, e, sil[k], SCHEDULE_SILENCE, due);
    }
    for (size_t k = 0; e->dates && e->fields && k < nd; k++) {
        int64_t due =
            trigger_date_touched(dates[k], e->msg) ? trigger_date_due(dates[k], e->fields, zone, e->m.ts_ms) : -1;
        if (due >= 0)
            put(a, e, dates[k], SCHEDULE_DATE, due);
    }
}

bool arms_cmd(const struct arms *a, struct cmd *c, const struct scripts *s, const struct keys *k, int64_t ttl_ms)
{
    if (a->n == 0)
        return false;
    scripts_begin(c, s, SCRIPT_ARM, (int)(2 * a->n));
    for (size_t i = 0; i < a->n; i++) {
        cmd_adds(c, k->schedule[keys_shard(k, a->a[i].customer)]);
        keys_add_customer(c, k, a->a[i].customer, "s");
    }
    cmd_addi(c, ttl_ms);
    for (size_t i = 0; i < a->n; i++) {
        cmd_adds(c, a->a[i].later ? "gt" : "");
        cmd_addi(c, a->a[i].due);
        cmd_addscopy(c, a->a[i].member);
    }
    return true;
}
