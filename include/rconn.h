/* rconn.h — nudged's connection to Redis: one server (rnode.h: one
 * hiredis async connection that reconnects by itself, also after a
 * failover behind one address), or a Redis Cluster (rcluster.h: each
 * command to the master of its key's slot). Callers send commands while
 * it is up and are told when it goes up or down; which of the two it is
 * changes nothing for them, except that a Cluster takes no MULTI/EXEC.
 */
#ifndef NUDGED_RCONN_H
#define NUDGED_RCONN_H

#include <event2/event.h>
#include <hiredis/async.h>
#include <stdbool.h>
#include <stddef.h>

struct rconn;

/* Called when the connection comes up (UP true, AUTH done), and with UP
 * false when it goes down or an attempt to connect fails (retried). */
typedef void rconn_state_fn(struct rconn *rc, bool up, void *data);

/* Creates a connection to URL (redis://host:port/db or unix:///path) named
 * NAME in logs; PASSWORD may be NULL. It starts connecting at once.
 * Returns NULL when URL cannot be parsed. Free with rconn_free. */
struct rconn *rconn_new(struct event_base *base, const char *url, const char *password, const char *name,
                        rconn_state_fn *fn, void *data);

/* The same, for the Redis Cluster whose nodes SEEDS names ("host:port
 * host:port ...", [redis] cluster_nodes). Returns NULL when SEEDS is not
 * a list of addresses. */
struct rconn *rconn_new_cluster(struct event_base *base, const char *seeds, const char *password, const char *name,
                                rconn_state_fn *fn, void *data);

/* rconn_new_cluster when CLUSTER_NODES is not empty, else rconn_new for
 * URL: what [redis] url and cluster_nodes say. */
struct rconn *rconn_open(struct event_base *base, const char *url, const char *cluster_nodes, const char *password,
                         const char *name, rconn_state_fn *fn, void *data);

/* Whether RC is a Redis Cluster (where a MULTI/EXEC is refused). */
bool rconn_is_cluster(const struct rconn *rc);

/* Sends a command (argv form). FN runs once with the reply, or with NULL
 * when the connection is lost first. Returns 0, or -1 when the connection
 * is down (FN is then not called). */
int rconn_send(struct rconn *rc, redisCallbackFn *fn, void *priv, int argc, const char **argv, const size_t *lens)
    __attribute__((warn_unused_result));

/* As rconn_send, for a command already in the Redis protocol (WIRE, LEN
 * bytes; copied). */
int rconn_send_wire(struct rconn *rc, redisCallbackFn *fn, void *priv, const char *wire, size_t len)
    __attribute__((warn_unused_result));

/* printf-style form for fixed commands. */
int rconn_sendf(struct rconn *rc, redisCallbackFn *fn, void *priv, const char *fmt, ...)
    __attribute__((warn_unused_result));

/* A reply callback for commands whose reply nobody needs. */
void rconn_ignore(redisAsyncContext *ac, void *reply, void *priv);

bool rconn_up(const struct rconn *rc);

/* Times the connection was re-established after a loss. */
unsigned long rconn_reconnects(const struct rconn *rc);

/* On a Redis Cluster, the redirections (MOVED, ASK) followed and the
 * slot maps read so far; 0 for one Redis. */
unsigned long rconn_redirects(const struct rconn *rc);
unsigned long rconn_map_reads(const struct rconn *rc);

/* Disconnects (pending callbacks run with NULL) and frees RC. */
void rconn_free(struct rconn *rc);

#endif
