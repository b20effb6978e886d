/* cond.h — the conditions of `where` and `if` (SPEC 3): compiled once at
 * load, evaluated against an eval_ctx with no I/O and no clock of their own. */
#ifndef NUDGED_COND_H
#define NUDGED_COND_H

#include <jansson.h>
#include <stdbool.h>

#include "errlist.h"
#include "path.h"

struct counters;

struct cond;

/* COND_EVENT_ONLY: the condition may read the event but not the customer
 * (`where`, evaluated before the profile is read). */
#define COND_EVENT_ONLY 1u

/* Compiles the condition J found at PATH (for messages, e.g. "where").
 * Windowed counts register their counter in REG (NULL: counts are refused,
 * as in COND_EVENT_ONLY). Returns the condition (owned by the caller, free
 * with cond_free), or NULL after reporting every problem through D. */
struct cond *cond_compile(json_t *j, const char *path, unsigned flags, struct counters *reg, const struct diag *d);

/* True when C holds in CTX. */
bool cond_eval(const struct cond *c, const struct eval_ctx *ctx);

void cond_free(struct cond *c);

/* Equality as marketers mean it: 20 equals 20.0; otherwise json_equal. */
bool cond_json_equal(json_t *a, json_t *b);

#endif
