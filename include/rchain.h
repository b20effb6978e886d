/* rchain.h — commands sent one after the other, each once the one before
 * it succeeded.
 *
 * A write that must be done before the ack that lets its source go (an
 * entry copied to <prefix>rejected or <prefix>dead, then acked) is one
 * script on one Redis; on a Redis Cluster the two keys are in two slots,
 * which no script or MULTI/EXEC spans. A chain keeps the order without
 * the atomicity: a process that dies between the steps leaves the source
 * pending, and whoever reads it again writes again. So a copy can come
 * twice, never not at all. Used alike on one Redis and on a Cluster, so
 * each of these writes is done one way.
 */
#ifndef NUDGED_RCHAIN_H
#define NUDGED_RCHAIN_H

#include <stddef.h>

#include "cmd.h"
#include "rconn.h"

struct rchain;

/* A chain on RC whose end FN(PRIV) is told: with the last command's
 * reply, or with the first error reply, or NULL when the connection was
 * lost (the commands after it were not sent). */
struct rchain *rchain_new(struct rconn *rc, redisCallbackFn *fn, void *priv);

/* Appends C's command (copied; C may be reset and reused). */
void rchain_add(struct rchain *ch, struct cmd *c);

/* Appends the command of the N borrowed strings ARGV (copied). */
void rchain_addv(struct rchain *ch, const char *const *argv, size_t n);

/* Sends the first command; the chain frees itself once FN has run.
 * Returns -1 (FN not called, the chain freed) when the connection is down. */
int rchain_send(struct rchain *ch) __attribute__((warn_unused_result));

#endif
