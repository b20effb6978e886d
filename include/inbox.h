/* inbox.h — moves the inbox's entries to their shards' streams (SPEC 8).
 *
 * A producer that does not pick the shard writes to <prefix>events, the
 * inbox. The process that owns shard 0 reads it (one reader, so the
 * entries keep their order) and moves each valid entry to the stream of
 * its customer's shard, exactly once (daemon/lua/move.lua), before
 * anything else happens to it; an invalid one goes to the rejected stream
 * from the inbox, with its inbox id. */
#ifndef NUDGED_INBOX_H
#define NUDGED_INBOX_H

#include <event2/event.h>

#include "config.h"
#include "keys.h"
#include "rconn.h"
#include "scripts.h"
#include "sreader.h"
#include "stats.h"

struct inbox_deps {
    struct event_base *base;
    struct rconn *reader, *conn; /* its blocking reads; the commands */
    const struct scripts *scripts;
    const struct keys *keys;
    const struct config *cfg;
    struct stats *stats;
};

struct inbox;

/* Borrows what DEPS points to, which must outlive it. The reader starts
 * active: the owner of shard 0 turns it off and on (sreader_set_active). */
struct inbox *inbox_new(const struct inbox_deps *deps);

struct sreader *inbox_reader(struct inbox *in);

/* True while a batch is being moved. */
bool inbox_busy(const struct inbox *in);

void inbox_free(struct inbox *in);

#endif
