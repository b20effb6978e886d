/* rcluster.h — Redis Cluster under one rconn (SPEC 8, `[redis]
 * cluster_nodes`): the slot map read with CLUSTER SLOTS, one connection a
 * master (rnode.h), each command sent to the master of its key's slot,
 * MOVED and ASK followed, and the map read again after a failover.
 *
 * hiredis 0.14 knows nothing of Cluster, and nudged needs little of it:
 * every command nudged sends on Cluster names its slot in one key (a
 * shard's keys share a hash tag), so routing is a key's CRC16, and no
 * command is split across nodes. MULTI/EXEC, whose commands carry the key,
 * is refused: callers on Cluster write one command at a time. SCRIPT
 * LOAD goes to every master connected, so an EVALSHA runs on whichever
 * master its key leads to; the Cluster is up only once every master is
 * connected, so a caller that loads its scripts whenever its connection
 * comes up has them on every master.
 */
#ifndef NUDGED_RCLUSTER_H
#define NUDGED_RCLUSTER_H

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#define RCLUSTER_SLOTS 16384
#define RCLUSTER_ADDR_MAX 280 /* "host:port" */

struct rcluster;

/* Called when every slot has a master and every master is connected (UP
 * true), and with UP false when that stops being so. */
typedef void rcluster_state_fn(struct rcluster *c, bool up, void *data);

/* The hash slot of KEY (LEN bytes): CRC16 (XMODEM) of its hash tag, the
 * part between the first '{' and the next '}' when not empty, else of
 * the whole key, mod 16384. */
unsigned rcluster_slot(const char *key, size_t len);

/* Which argument of the command ARGV (ARGC arguments) names the key that
 * decides its slot: its index; -1 for a command without a key (any master
 * answers it); -2 for a transaction (MULTI, EXEC, WATCH...), which this
 * module does not route. */
int rcluster_key_index(int argc, const char *const *argv, const size_t *lens);

/* Reads a redirection, "MOVED SLOT HOST:PORT" or "ASK SLOT HOST:PORT",
 * into ASK, SLOT and ADDR ("host:port"; an empty host, which Redis sends
 * when it does not know its own name, becomes ASKED_HOST, the host of the
 * node that answered). Returns 0, or -1 when ERR is not one. */
int rcluster_parse_redirect(const char *err, const char *asked_host, bool *ask, unsigned *slot, char *addr,
                            size_t addrlen);

/* One range of slots and the address of its master. */
struct rcluster_range {
    unsigned from, to;
    char addr[RCLUSTER_ADDR_MAX];
};

/* Reads a CLUSTER SLOTS reply into at most MAX ranges of OUT (an empty
 * host becomes ASKED_HOST). Returns how many, or -1 (with WHY) when the
 * reply is not a slot map. */
int rcluster_parse_slots(const redisReply *r, const char *asked_host, struct rcluster_range *out, size_t max,
                         const char **why);

/* Whether SEEDS ("host:port host:port ...", spaces or commas between) is
 * a list of at least one address; WHY says what is wrong when not. */
bool rcluster_seeds_valid(const char *seeds, const char **why);

/* Starts reading the map from SEEDS; connections are named NAME in logs,
 * and authenticate with PASSWORD (may be NULL). Returns NULL when SEEDS
 * is not valid. Free with rcluster_free. */
struct rcluster *rcluster_new(struct event_base *base, const char *seeds, const char *password, const char *name,
                              rcluster_state_fn *fn, void *data);

/* Sends the command WIRE (LEN bytes of the Redis protocol; copied) to the
 * master of its key's slot, following MOVED and ASK. FN runs once: with
 * the reply, or with NULL when the connection it went on is lost or a
 * redirection leads to a master not connected yet. Returns 0, or -1 when
 * the master of its slot is not connected, or the command is a
 * transaction (FN is then not called). */
int rcluster_send_wire(struct rcluster *c, redisCallbackFn *fn, void *priv, const char *wire, size_t len)
    __attribute__((warn_unused_result));

bool rcluster_up(const struct rcluster *c);

/* Reconnects of every connection it has had. */
unsigned long rcluster_reconnects(const struct rcluster *c);

/* MOVED and ASK redirections followed, and slot maps read, so far. */
unsigned long rcluster_redirects(const struct rcluster *c);
unsigned long rcluster_map_reads(const struct rcluster *c);

/* Disconnects every node (pending callbacks run with NULL) and frees C. */
void rcluster_free(struct rcluster *c);

#endif
