/* tally.h — the counts of the measured triggers (measure.h) on their way
 * to their hashes. A round's commit pushes its counts as one string, a
 * tally, to the tally list of the round's shard, <prefix>tally:{k}: one
 * RPUSH however many triggers it counted, where one HINCRBY a trigger and
 * count cost Redis more than the rest of measuring. Each shard's owner
 * folds the shard's list into the shard's hashes <prefix>measures:{k}:ID
 * now and then, fenced by the shard's lease, so that only one process
 * folds a list, and everything a fold touches is in the shard's slot; the
 * report adds the hashes of every shard and the tallies not folded yet.
 * Parsed in C only: Redis's Lua would spend more on the parsing than the
 * increments it saves. */
#ifndef NUDGED_TALLY_H
#define NUDGED_TALLY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd.h"
#include "keys.h"
#include "rconn.h"
#include "scripts.h"
#include "util.h"

/* Folded once this many tallies wait, or a minute after the last fold
 * when any waits. A fold takes at most TALLY_FOLD_MAX of them (a bounded
 * reply); one that took that many is followed by the next at once, so
 * the list cannot grow faster than it is folded. */
#define TALLY_FOLD 1024
#define TALLY_FOLD_AGE_MS 60000
#define TALLY_FOLD_MAX 2048

/* Adds COUNTS ({ID: {COUNT: n}}) to C as one tally, "ID COUNT N ID COUNT
 * N ...": "" when COUNTS is empty. */
void tally_format(struct cmd *c, json_t *counts);

/* Adds N to COUNT (a name of measure.h) of the trigger ID (IDLEN bytes)
 * in COUNTS ({ID: {COUNT: n}}): how a round, a tally and a report sum. */
void tally_add(json_t *counts, const char *id, size_t idlen, const char *count, long long n);

/* Adds the counts of the tally S (LEN bytes) to COUNTS ({ID: {COUNT:
 * n}}); -1, COUNTS unchanged, when S is not a tally. */
int tally_parse(json_t *counts, const char *s, size_t len);

struct tally_folder;

/* The folder of shard SHARD's tallies. */
struct tally_folder *tally_folder_new(struct rconn *conn, const struct scripts *scripts, const struct keys *keys,
                                      unsigned shard);

/* Whether this process owns the folder's shard (owner.h), which makes it
 * the one that folds. */
void tally_folder_own(struct tally_folder *f, bool owned);

/* Folds the tallies when it is time (NOW_MS: the monotonic clock); at
 * most one fold at a time. */
void tally_folder_tick(struct tally_folder *f, int64_t now_ms);

/* The gauge of the tallies waiting in the longest list of the N folders
 * F, as this process last saw them (those of the shards it owns), for the
 * metrics: a fold that keeps failing shows as a number that only grows. */
void tally_folder_metrics(struct tally_folder *const *f, size_t n, struct buf *out);

void tally_folder_free(struct tally_folder *f);

#endif
