/* oneshot.h — one Redis command (or a few) from a command-line tool
 * (forget, report, check): a short-lived loop with the daemon's own connection code (AUTH,
 * SELECT, unix sockets), the command sent once connected, and a deadline. */
#ifndef NUDGED_ONESHOT_H
#define NUDGED_ONESHOT_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#include "cmd.h"
#include "config.h"

/* The answer: REPLY borrowed (an error reply included), or NULL when none
 * came (no connection, or the deadline passed first). */
typedef void oneshot_reply_fn(const redisReply *reply, void *data);

/* Sends C once connected to [redis] url as NAME and calls FN with the
 * answer, or with NULL after DEADLINE_S seconds (FAIL_FAST: as soon as a
 * first connection fails, for a tool to which Redis is optional). */
void oneshot_run(const struct config *cfg, const char *name, struct cmd *c, int deadline_s, bool fail_fast,
                 oneshot_reply_fn *fn, void *data);

/* The same for the N commands C (sent together once connected): FN gets
 * each one's answer with its index I, or NULL; the loop ends once all
 * are answered or the deadline passed. */
typedef void oneshot_each_fn(const redisReply *reply, size_t i, void *data);
void oneshot_run_each(const struct config *cfg, const char *name, struct cmd *c, size_t n, int deadline_s,
                      bool fail_fast, oneshot_each_fn *fn, void *data);

#endif
