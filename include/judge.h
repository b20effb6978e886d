/* judge.h — which triggers an entry of a round meets (SPEC 3): an event's
 * candidates (their `on` and `where`, found when it was applied) and its
 * group and tier moves; a timer's waiting trigger, silence, date or
 * regroup; then, on the customer's view, each candidate's `if`. What
 * fires, and how, is decided afterwards (decision.h). */
#ifndef NUDGED_JUDGE_H
#define NUDGED_JUDGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "stats.h"
#include "trigger.h"

/* What a round's entries are judged against: borrowed, for one round. */
struct judge {
    const struct trigger_set *set;
    json_t *now; /* NOW_MS as ISO-8601, what templates see */
    int64_t now_ms;
    const struct eval_zone *zone;   /* the customer's clock */
    int64_t active_period_ms;       /* [triggers] active_period */
    uint32_t top_share;             /* [triggers] top_share, in hundredths of a percent */
    bool timers;                    /* the entries are timers, not events */
    struct stats *stats;            /* timers dropped, firings cancelled by `unless` */
    const struct trigger **scratch; /* room for every trigger of SET */
    size_t scratch_cap;
};

/* Adds the N triggers T to E's candidates. */
void judge_keep(struct entry *e, const struct trigger **t, size_t n);

/* The context E's conditions and templates are evaluated in. */
struct eval_ctx judge_ctx(const struct judge *j, const struct entry *e);

/* Builds E's view of its customer (E->customer) and keeps the candidates
 * whose `if` holds, in the order they fire; returns whether any does. A
 * timer whose trigger is gone, or whose customer was erased, is dropped
 * (counted, and logged). */
bool judge_entry(const struct judge *j, struct entry *e);

#endif
