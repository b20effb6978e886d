/* rnode.h — one hiredis async connection that reconnects by itself: the
 * connection to one Redis server under rconn.h (one Redis, or one master
 * of a Redis Cluster).
 *
 * hiredis 0.14 has no timeouts and no reconnect: this module adds a connect
 * deadline, a reply deadline, TCP keep-alive and reconnect with jittered
 * backoff, all on libevent timers, and a reconnect when the server became
 * a replica (a READONLY reply: a failover behind one address). Users send
 * commands while it is up and are told when it goes up or down.
 */
#ifndef NUDGED_RNODE_H
#define NUDGED_RNODE_H

#include <event2/event.h>
#include <hiredis/async.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct rnode;

/* Called when the connection comes up (UP true, AUTH done), and with UP
 * false when it goes down or an attempt to connect fails (retried). */
typedef void rnode_state_fn(struct rnode *rc, bool up, void *data);

/* Creates a connection to URL (redis://host:port/db or unix:///path) named
 * NAME in logs; PASSWORD may be NULL. It starts connecting at once.
 * Returns NULL when URL cannot be parsed. Free with rnode_free. */
struct rnode *rnode_new(struct event_base *base, const char *url, const char *password, const char *name,
                        rnode_state_fn *fn, void *data);

/* Sends a command (argv form). FN runs once with the reply, or with NULL
 * when the connection is lost first. Returns 0, or -1 when the connection
 * is down (FN is then not called). */
int rnode_send(struct rnode *rc, redisCallbackFn *fn, void *priv, int argc, const char **argv, const size_t *lens)
    __attribute__((warn_unused_result));

/* As rnode_send, for a command already in the Redis protocol (WIRE, LEN
 * bytes; copied). */
int rnode_send_wire(struct rnode *rc, redisCallbackFn *fn, void *priv, const char *wire, size_t len)
    __attribute__((warn_unused_result));

/* printf-style form for fixed commands. */
int rnode_sendf(struct rnode *rc, redisCallbackFn *fn, void *priv, const char *fmt, ...)
    __attribute__((warn_unused_result));
int rnode_vsendf(struct rnode *rc, redisCallbackFn *fn, void *priv, const char *fmt, va_list ap)
    __attribute__((warn_unused_result));

bool rnode_up(const struct rnode *rc);

/* Times the connection was re-established after a loss. */
unsigned long rnode_reconnects(const struct rnode *rc);

/* Disconnects (pending callbacks run with NULL) and frees RC. */
void rnode_free(struct rnode *rc);

#endif
