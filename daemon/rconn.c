/* rconn.c — one Redis or a Redis Cluster behind one interface (see
 * rconn.h). A command for a Cluster is put in the Redis protocol first,
 * which is what the Cluster client routes and keeps for a redirection.
 */
#include "rconn.h"
#include "rcluster.h"
#include "rnode.h"
#include "util.h"

#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdlib.h>

struct rconn {
    struct rnode *node;       /* one Redis, or */
    struct rcluster *cluster; /* a Redis Cluster */
    rconn_state_fn *fn;
    void *data;
};

static void on_node_state(struct rnode *n, bool up, void *data)
{
    struct rconn *rc = data;
    (void)n;
    rc->fn(rc, up, rc->data);
}

static void on_cluster_state(struct rcluster *c, bool up, void *data)
{
    struct rconn *rc = data;
    (void)c;
    rc->fn(rc, up, rc->data);
}

static struct rconn *shell(rconn_state_fn *fn, void *data)
{
    struct rconn *rc = util_xcalloc(1, sizeof *rc);
    rc->fn = fn;
    rc->data = data;
    return rc;
}

struct rconn *rconn_new(struct event_base *base, const char *url, const char *password, const char *name,
                        rconn_state_fn *fn, void *data)
{
    struct rconn *rc = shell(fn, data);
    if ((rc->node = rnode_new(base, url, password, name, on_node_state, rc)) == NULL) {
        free(rc);
        return NULL;
    }
    return rc;
}

struct rconn *rconn_new_cluster(struct event_base *base, const char *seeds, const char *password, const char *name,
                                rconn_state_fn *fn, void *data)
{
    struct rconn *rc = shell(fn, data);
    if ((rc->cluster = rcluster_new(base, seeds, password, name, on_cluster_state, rc)) == NULL) {
        free(rc);
        return NULL;
    }
    return rc;
}

struct rconn *rconn_open(struct event_base *base, const char *url, const char *cluster_nodes, const char *password,
                         const char *name, rconn_state_fn *fn, void *data)
{
    return *cluster_nodes ? rconn_new_cluster(base, cluster_nodes, password, name, fn, data)
                          : rconn_new(base, url, password, name, fn, data);
}

bool rconn_is_cluster(const struct rconn *rc)
{
    return rc->cluster != NULL;
}

int rconn_send(struct rconn *rc, redisCallbackFn *fn, void *priv, int argc, const char **argv, const size_t *lens)
{
    if (rc->node)
        return rnode_send(rc->node, fn, priv, argc, argv, lens);
    char *wire;
    int len = redisFormatCommandArgv(&wire, argc, argv, lens);
    if (len < 0)
        return -1;
    int r = rcluster_send_wire(rc->cluster, fn, priv, wire, (size_t)len);
    free(wire);
    return r;
}

int rconn_send_wire(struct rconn *rc, redisCallbackFn *fn, void *priv, const char *wire, size_t len)
{
    return rc->node ? rnode_send_wire(rc->node, fn, priv, wire, len)
                    : rcluster_send_wire(rc->cluster, fn, priv, wire, len);
}

int rconn_sendf(struct rconn *rc, redisCallbackFn *fn, void *priv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *wire = NULL;
    int r = rc->node ? rnode_vsendf(rc->node, fn, priv, fmt, ap) : redisvFormatCommand(&wire, fmt, ap);
    va_end(ap);
    if (rc->node || r < 0)
        return rc->node ? r : -1;
    r = rcluster_send_wire(rc->cluster, fn, priv, wire, (size_t)r);
    free(wire);
    return r;
}

void rconn_ignore(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    (void)reply;
    (void)priv;
}

bool rconn_up(const struct rconn *rc)
{
    return rc->node ? rnode_up(rc->node) : rcluster_up(rc->cluster);
}

unsigned long rconn_reconnects(const struct rconn *rc)
{
    return rc->node ? rnode_reconnects(rc->node) : rcluster_reconnects(rc->cluster);
}

unsigned long rconn_redirects(const struct rconn *rc)
{
    return rc->cluster ? rcluster_redirects(rc->cluster) : 0;
}

unsigned long rconn_map_reads(const struct rconn *rc)
{
    return rc->cluster ? rcluster_map_reads(rc->cluster) : 0;
}

void rconn_free(struct rconn *rc)
{
    if (rc == NULL)
        return;
    rnode_free(rc->node);
    rcluster_free(rc->cluster);
    free(rc);
}
