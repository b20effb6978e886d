/* scripts.h — the Lua scripts that make each step atomic in Redis.
 *
 * Loaded once per connection (SCRIPT LOAD), called by EVALSHA. A NOSCRIPT
 * reply (the cache was flushed) is a transient error: the caller retries the
 * work after scripts_load runs again.
 */
#ifndef NUDGED_SCRIPTS_H
#define NUDGED_SCRIPTS_H

#include <stdbool.h>

#include "cmd.h"
#include "rconn.h"

/* One script a file daemon/lua/NAME.lua, as SCRIPT_NAME; its KEYS and
 * ARGV are documented at the top of the file. */
enum script_id {
    SCRIPT_COMMIT,   /* write a round: profiles, deliveries, schedule, counts, acks; fenced, checked */
    SCRIPT_RETRY,    /* schedule the next attempt, ack and delete this one */
    SCRIPT_DUE,      /* move due scheduled items into their stream */
    SCRIPT_FORGET,   /* erase a customer and their scheduled items */
    SCRIPT_TRIM,     /* drop the entries of a stream its group has read and acked */
    SCRIPT_ARM,      /* arm a customer's silences (or move them later) */
    SCRIPT_RANK,     /* rank customers among the buyers (value tiers) */
    SCRIPT_BUYERS,   /* drop buyers whose profile expired */
    SCRIPT_MOVE,     /* move inbox entries to their shards' streams, once */
    SCRIPT_REGISTRY, /* register a process among the live ones, list them */
    SCRIPT_LEASES,   /* take, renew and let go of shard leases */
    SCRIPT_MEASURES, /* read the measured triggers' counts (read only) */
    SCRIPT_FOLD,     /* fold the counts' tallies into their hashes (tally.h) */
    SCRIPT_COUNT
};

/* The source of each script as Redis gets it (generated at build time). */
extern const char *const scripts_lua[SCRIPT_COUNT];

struct scripts;
struct scripts_req {
    struct scripts *s;
    int id;
};

struct scripts {
    char sha[SCRIPT_COUNT][41];
    struct scripts_req reqs[SCRIPT_COUNT]; /* the callback data of SCRIPT LOAD */
    int loaded;                            /* how many SCRIPT LOAD replies came back fine */
    void (*done)(void *data, bool ok);
    void *data;
    int outstanding;
    bool failed;
};

/* Sends SCRIPT LOAD for every script on RC; DONE(DATA, ok) runs once all
 * replies are in. Returns -1 when nothing could be sent. */
int scripts_load(struct scripts *s, struct rconn *rc, void (*done)(void *data, bool ok), void *data)
    __attribute__((warn_unused_result));

/* Starts C as "EVALSHA <sha> NKEYS"; the caller adds keys and arguments. */
void scripts_begin(struct cmd *c, const struct scripts *s, enum script_id id, int nkeys);

/* Starts C as "EVAL <source> NKEYS": for one-off commands that did not
 * load the scripts (nudged forget). */
void scripts_begin_eval(struct cmd *c, enum script_id id, int nkeys);

/* True when an error reply means "try again later" rather than "this input
 * can never succeed" (NOSCRIPT, OOM, LOADING, BUSY, READONLY...). */
bool scripts_transient_error(const char *err);

#endif
