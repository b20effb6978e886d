/* keys.h — the names of nudged's Redis keys (SPEC 1, 2, 4).
 *
 * Global keys are "<prefix>events" (the inbox) and the like; shard k's
 * events stream is "<prefix>events:{k}" (shard.h), and every key of a
 * customer of shard k is "<prefix>{k}:ID:x": a shard's stream, lease and
 * customers share one Redis Cluster hash slot (SPEC 8). This file is the
 * only place that names a key: scripts get them, or read them from sets
 * of key names. */
#ifndef NUDGED_KEYS_H
#define NUDGED_KEYS_H

#include "cmd.h"
#include "config.h"

/* The layout of what nudged stores in Redis: key names, the fields of a
 * profile, the dedup members, the actions entries and schedule items. It
 * is written to <prefix>layout on the first start, and a process refuses
 * to run on data of another layout. Raise it with any change of those
 * that data written before would not meet (a key, field or member renamed
 * or encoded otherwise); a new key or field, which older data just lacks,
 * keeps it. Nothing is migrated (nudged has not been released). */
#define KEYS_LAYOUT_VERSION "6"

struct keys {
    char *events, *rejected, *dead, *layout; /* owned */
    /* owned: "{<prefix>dead}:redriving:", the prefix of the claim a
     * redrive takes on a dead entry (its id follows), in the dead stream's
     * slot: the hash tag is the dead stream's whole name */
    char *redriving;
    /* owned, one a shard (k below shards): shard k's outbox, the
     * deliveries to send, "<prefix>actions:{k}"; its schedule,
     * "<prefix>schedule:{k}"; and its timers stream, "<prefix>timers:{k}",
     * where the schedule's due waiting firings go. In the shard's slot, so
     * a commit of the shard's customers writes them with the rest. */
    char **actions, **schedule, **timers;
    char *measures; /* owned: the prefix of a trigger's counts, "<prefix>measures:" */
    /* owned, one a shard: the counts not yet folded into its hashes,
     * "<prefix>tally:{k}", and how many folds of them were done,
     * "<prefix>folds:{k}" */
    char **tally, **folds;
    char **buyers; /* owned, one a shard: its customers with orders, scored by revenue (tier.h), "<prefix>buyers:{k}" */
    const char *prefix, *group, *consumer; /* borrowed from config */
    /* owned: every events stream nudged reads, the inbox (events) first,
     * then shard k's at 1 + k; nstreams is 1 + [redis] shards */
    char **streams;
    unsigned nstreams;
    char **leases;   /* owned: shard k's lease, <prefix>lease:{k} (in its stream's slot) */
    char *processes; /* owned: the live processes, which share the shards */
    unsigned shards; /* [redis] shards: a customer's keys are in its shard's slot */
};

void keys_init(struct keys *k, const struct config *cfg);
void keys_free(struct keys *k);

/* Why the layout stored in Redis (<prefix>layout's VERSION and SHARDS;
 * both NULL when the key is a string, as layout 1 wrote it) is not the one
 * a process with CFG reads and writes, as one line saying what to do, in
 * WHY; NULL when it is. The daemon refuses to start on another, and
 * `nudged check` says so. */
const char *keys_layout_mismatch(const struct config *cfg, const char *version, const char *shards, char *why,
                                 size_t len);

/* Shard K's events stream (K below [redis] shards). */
const char *keys_shard_stream(const struct keys *k, unsigned shard);

/* Customer ID's shard (shard.h), with K's number of shards. */
unsigned keys_shard(const struct keys *k, const char *id);

/* Adds the key of TRIGGER's counts in shard SHARD to C,
 * "<prefix>measures:{k}:TRIGGER": a small hash of its own (measure.h), so
 * adding to it stays cheap however many triggers are measured, in the
 * slot of the shard whose tallies are folded into it. A trigger's counts
 * are the sum over the shards. */
void keys_add_measures(struct cmd *c, const struct keys *k, unsigned shard, const char *trigger);

/* Adds customer ID's key of each kind of KINDS to C, in that order:
 * "<prefix>{k}:ID:<KIND>", k the customer's shard, where a kind is p
 * (profile hash), d (dedup set), a (link), s (schedule index) or m
 * (merged ids). */
void keys_add_customer(struct cmd *c, const struct keys *k, const char *id, const char *kinds);

#endif
