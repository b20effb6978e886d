/* backlog.h — the events backlog: the entries of every events stream (the
 * inbox and each shard's) that the consumer group has not read (lag) or
 * not acknowledged (pending), summed. The collector answers 429 above
 * [http] max_backlog, and the metrics show both.
 */
#ifndef NUDGED_BACKLOG_H
#define NUDGED_BACKLOG_H

#include <stdint.h>

#include "rconn.h"

typedef void backlog_fn(uint64_t lag, uint64_t pending, void *data);

/* Asks RC for GROUP's backlog on the N STREAMS (one XINFO GROUPS each).
 * FN runs once with the sums when every answer came, and not at all when
 * one failed or could not be sent (the caller's last figures stand).
 * STREAMS is read now; GROUP is borrowed until FN would have run. */
void backlog_ask(struct rconn *rc, const char *const *streams, unsigned n, const char *group, backlog_fn *fn,
                 void *data);

#endif
