/* sentry.h — a stream entry as hiredis gives it, [id, [field, value,
 * ...]]: its id read and compared, and a copy that outlives its reply
 * (a reader holds entries back across reads: sreader.h). */
#ifndef NUDGED_SENTRY_H
#define NUDGED_SENTRY_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdint.h>

/* Whether E is live, [id, [field, value, ...]]; a pending entry that was
 * trimmed comes back as [id, nil]. */
bool sentry_live(const redisReply *e);

/* E's id, or NULL when E has none. */
const char *sentry_id(const redisReply *e);

/* Ids compared: milliseconds, then sequence (<0, 0, >0). */
int sentry_id_cmp(const char *a, const char *b);

/* An id's two numbers. */
void sentry_id_parse(const char *id, uint64_t *ms, uint64_t *seq);

/* The last id of ENTRIES (live or trimmed), NULL when there is none. */
const char *sentry_last_id(const redisReply *entries);

/* A copy of live entry E, in hiredis's own shape, in one allocation the
 * caller frees with free(). */
redisReply *sentry_copy(const redisReply *e);

#endif
