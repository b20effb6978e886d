/* rcluster.c — a Redis Cluster client on rnode connections (see
 * rcluster.h): the slot map, routing by key, MOVED and ASK, and the map
 * read again while a master is gone, until its replica has taken over.
 */
#include "rcluster.h"
#include "log.h"
#include "rnode.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#define REFRESH_EVERY_MS 500 /* while the map is stale: a failover takes about two node timeouts */
#define REDIRECTS_MAX 5      /* a slot that keeps moving is a cluster being resharded in a loop */
#define ARGS_MAX 16          /* what routing looks at: XREADGROUP's STREAMS comes within these */

struct node {
    TAILQ_ENTRY(node) link;
    struct rcluster *c;
    struct rnode *conn;
    char addr[RCLUSTER_ADDR_MAX];
    bool master;  /* a slot is its, in the last map */
    bool retired; /* left out of a full map: freed from the timer, never from its own callback */
};

TAILQ_HEAD(node_list, node);

struct rcluster {
    struct event_base *base;
    char *password, *name;
    struct node_list nodes;
    struct node **slots; /* RCLUSTER_SLOTS: each slot's master, NULL while unknown */
    bool mapped;         /* every slot has a master */
    bool stale;          /* the map is to be read again */
    bool refreshing;     /* a CLUSTER SLOTS is on its way */
    bool up, closing;
    bool map_failing; /* the last map read failed: said once, not every REFRESH_EVERY_MS */
    unsigned long retired_reconnects;
    unsigned long redirects, map_reads; /* MOVED and ASK followed; slot maps read */
    struct event *timer;
    rcluster_state_fn *fn;
    void *data;
};

/* One command on its way: its bytes, kept for a redirection. */
struct hop {
    struct rcluster *c;
    redisCallbackFn *fn;
    void *priv;
    int redirects;
    size_t len;
    char host[RCLUSTER_ADDR_MAX]; /* of the node it went to, for a redirection naming no host */
    char wire[];
};

static uint16_t crc16(const char *p, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)((unsigned char)p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = crc & 0x8000 ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

unsigned rcluster_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t rest = len - (size_t)(open - key) - 1;
        const char *close = memchr(open + 1, '}', rest);
        if (close && close > open + 1)
            return crc16(open + 1, (size_t)(close - open - 1)) & (RCLUSTER_SLOTS - 1);
    }
    return crc16(key, len) & (RCLUSTER_SLOTS - 1);
}

static bool is(const char *arg, size_t len, const char *name)
{
    return strlen(name) == len && strncasecmp(arg, name, len) == 0;
}

static bool is_any(const char *arg, size_t len, const char *const *names)
{
    for (; *names; names++)
        if (is(arg, len, *names))
            return true;
    return false;
}

int rcluster_key_index(int argc, const char *const *argv, const size_t *lens)
{
    static const char *const keyless[] = {"PING",   "INFO",    "CLUSTER", "SCRIPT",   "AUTH",     "SELECT",
                                          "CLIENT", "COMMAND", "TIME",    "ECHO",     "READONLY", "READWRITE",
                                          "ASKING", "CONFIG",  "DBSIZE",  "FLUSHALL", "FLUSHDB",  "FUNCTION",
                                          "HELLO",  "ROLE",    "WAIT",    NULL};
    static const char *const transaction[] = {"MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH", NULL};
    static const char *const second[] = {"XGROUP", "XINFO", "OBJECT", "MEMORY", NULL};
    static const char *const scripts[] = {"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO", NULL};
    if (argc < 1)
        return -1;
    if (is_any(argv[0], lens[0], transaction))
        return -2;
    if (is_any(argv[0], lens[0], keyless))
        return -1;
    if (is_any(argv[0], lens[0], scripts))
        return argc > 3 && !(lens[2] == 1 && argv[2][0] == '0') ? 3 : -1;
    if (is(argv[0], lens[0], "XREADGROUP") || is(argv[0], lens[0], "XREAD")) {
        for (int i = 1; i + 1 < argc; i++)
            if (is(argv[i], lens[i], "STREAMS"))
                return i + 1;
        return -1;
    }
    if (is_any(argv[0], lens[0], second))
        return argc > 2 ? 2 : -1;
    return argc > 1 ? 1 : -1;
}

/* "host:port" from HOST (or ASKED when empty) and PORT TEXT. */
static int join_addr(const char *host, size_t hostlen, const char *asked, const char *port, char *addr, size_t addrlen)
{
    char *end;
    long p = strtol(port, &end, 10);
    if (p < 1 || p > 65535 || (*end != '\0' && !isspace((unsigned char)*end)))
        return -1;
    if (hostlen == 0) {
        host = asked;
        hostlen = strlen(asked);
    }
    int n = snprintf(addr, addrlen, "%.*s:%ld", (int)hostlen, host, p);
    return hostlen > 0 && n > 0 && (size_t)n < addrlen ? 0 : -1;
}

int rcluster_parse_redirect(const char *err, const char *asked_host, bool *ask, unsigned *slot, char *addr,
                            size_t addrlen)
{
    if (strncmp(err, "MOVED ", 6) == 0)
        *ask = false;
    else if (strncmp(err, "ASK ", 4) == 0)
        *ask = true;
    else
        return -1;
    const char *p = err + (*ask ? 4 : 6);
    char *end;
    unsigned long s = strtoul(p, &end, 10);
    if (end == p || *end != ' ' || s >= RCLUSTER_SLOTS)
        return -1;
    const char *target = end + 1, *colon = strrchr(target, ':');
    if (colon == NULL)
        return -1;
    *slot = (unsigned)s;
    return join_addr(target, (size_t)(colon - target), asked_host, colon + 1, addr, addrlen);
}

static bool is_int(const redisReply *r)
{
    return r->type == REDIS_REPLY_INTEGER && r->integer >= 0 && r->integer < RCLUSTER_SLOTS;
}

int rcluster_parse_slots(const redisReply *r, const char *asked_host, struct rcluster_range *out, size_t max,
                         const char **why)
{
    *why = "CLUSTER SLOTS did not answer a list of slot ranges";
    if (r == NULL || r->type != REDIS_REPLY_ARRAY)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < r->elements && n < max; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 || !is_int(e->element[0]) || !is_int(e->element[1]) ||
            e->element[0]->integer > e->element[1]->integer)
            return -1;
        const redisReply *m = e->element[2];
        if (m->type != REDIS_REPLY_ARRAY || m->elements < 2 || m->element[0]->type != REDIS_REPLY_STRING ||
            m->element[1]->type != REDIS_REPLY_INTEGER)
            return -1;
        char port[24];
        snprintf(port, sizeof port, "%lld", m->element[1]->integer);
        const char *host = m->element[0]->str;
        size_t hostlen = m->element[0]->len;
        if (hostlen == 1 && host[0] == '?') /* Redis 7: an endpoint it does not know */
            hostlen = 0;
        if (join_addr(host, hostlen, asked_host, port, out[n].addr, sizeof out[n].addr) != 0) {
            *why = "CLUSTER SLOTS named a master without a usable address";
            return -1;
        }
        out[n].from = (unsigned)e->element[0]->integer;
        out[n].to = (unsigned)e->element[1]->integer;
        n++;
    }
    return (int)n;
}

/* Calls FN for each address of SEEDS; returns how many, or -1 (WHY) at
 * the first that is not host:port. */
static int each_seed(const char *seeds, void (*fn)(struct rcluster *, const char *), struct rcluster *c,
                     const char **why)
{
    int n = 0;
    const char *p = seeds;
    while (*p) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, " \t,");
        if (len == 0)
            break;
        char addr[RCLUSTER_ADDR_MAX];
        const char *colon = NULL;
        for (size_t i = 0; i < len; i++)
            colon = p[i] == ':' ? p + i : colon;
        char port[8];
        size_t plen = colon ? len - (size_t)(colon - p) - 1 : 0;
        if (colon == NULL || colon == p || plen == 0 || plen >= sizeof port) {
            *why = "each address of redis.cluster_nodes must be host:port";
            return -1;
        }
        if (memchr(p, ':', (size_t)(colon - p))) {
            *why = "redis.cluster_nodes takes IPv4 addresses and host names, not IPv6 ones";
            return -1;
        }
        memcpy(port, colon + 1, plen);
        port[plen] = '\0';
        if (join_addr(p, (size_t)(colon - p), "", port, addr, sizeof addr) != 0) {
            *why = "each address of redis.cluster_nodes must be host:port, the port from 1 to 65535";
            return -1;
        }
        if (fn)
            fn(c, addr);
        n++;
        p += len;
    }
    if (n == 0)
        *why = "redis.cluster_nodes names no address";
    return n > 0 ? n : -1;
}

bool rcluster_seeds_valid(const char *seeds, const char **why)
{
    return each_seed(seeds, NULL, NULL, why) > 0;
}

static void update_state(struct rcluster *c)
{
    bool up = c->mapped && !c->closing;
    struct node *n;
    TAILQ_FOREACH(n, &c->nodes, link)
    {
        up &= !n->master || rnode_up(n->conn);
    }
    if (up == c->up)
        return;
    c->up = up;
    c->fn(c, up, c->data);
}

static void refresh(struct rcluster *c);
static void on_hop(redisAsyncContext *ac, void *r, void *priv);

static void on_node_state(struct rnode *rn, bool up, void *data)
{
    struct node *n = data;
    struct rcluster *c = n->c;
    (void)rn;
    if (c->closing)
        return;
    if (!up && n->master)
        c->stale = true; /* a failover, perhaps: the replica's promotion shows in the map */
    if (up && (c->stale || !c->mapped))
        refresh(c);
    update_state(c);
}

static struct node *node_find(struct rcluster *c, const char *addr)
{
    struct node *n;
    TAILQ_FOREACH(n, &c->nodes, link)
    {
        if (!n->retired && strcmp(n->addr, addr) == 0)
            return n;
    }
    return NULL;
}

/* The node of ADDR, connecting to it when it is new; NULL (logged) for
 * an address no connection can be made to (an IPv6 one: hiredis 0.14's
 * URLs and nudged's take none). */
static struct node *node_get(struct rcluster *c, const char *addr)
{
    struct node *n = node_find(c, addr);
    if (n)
        return n;
    char url[RCLUSTER_ADDR_MAX + 16], name[RCLUSTER_ADDR_MAX + 64];
    snprintf(url, sizeof url, "redis://%s", addr);
    snprintf(name, sizeof name, "%s %s", c->name, addr);
    n = util_xcalloc(1, sizeof *n);
    n->c = c;
    snprintf(n->addr, sizeof n->addr, "%s", addr);
    if ((n->conn = rnode_new(c->base, url, c->password, name, on_node_state, n)) == NULL) {
        log_warn("redis cluster: a node's address cannot be connected to", "conn", c->name, "addr", addr);
        free(n);
        return NULL;
    }
    TAILQ_INSERT_TAIL(&c->nodes, n, link);
    return n;
}

static void add_seed(struct rcluster *c, const char *addr)
{
    node_get(c, addr);
}

static void node_free(struct rcluster *c, struct node *n)
{
    TAILQ_REMOVE(&c->nodes, n, link);
    c->retired_reconnects += rnode_reconnects(n->conn);
    rnode_free(n->conn);
    free(n);
}

/* The map of RANGES (N of them) in place of the old one; nodes no range
 * names are retired once every slot has a master. */
static void apply_map(struct rcluster *c, const struct rcluster_range *ranges, int n)
{
    struct node *nd;
    TAILQ_FOREACH(nd, &c->nodes, link)
    {
        nd->master = false;
    }
    bool changed = false;
    unsigned covered = 0;
    memset(c->slots, 0, RCLUSTER_SLOTS * sizeof *c->slots);
    for (int i = 0; i < n; i++) {
        struct node *m = node_get(c, ranges[i].addr);
        if (m == NULL)
            continue;
        m->master = true;
        for (unsigned s = ranges[i].from; s <= ranges[i].to; s++) {
            covered += c->slots[s] == NULL;
            c->slots[s] = m;
        }
    }
    TAILQ_FOREACH(nd, &c->nodes, link)
    {
        if (!nd->master && !nd->retired && covered == RCLUSTER_SLOTS) {
            nd->retired = true;
            changed = true;
        }
    }
    bool was = c->mapped;
    c->mapped = covered == RCLUSTER_SLOTS;
    char masters[16], slots[16];
    snprintf(masters, sizeof masters, "%d", n);
    snprintf(slots, sizeof slots, "%u", covered);
    if (!c->mapped)
        log_warn("redis cluster: the slot map leaves slots without a master", "conn", c->name, "slots", slots);
    else if (!was || changed)
        log_info("redis cluster: slot map read", "conn", c->name, "ranges", masters);
}

static void on_slots(redisAsyncContext *ac, void *r, void *priv)
{
    struct rcluster *c = priv;
    c->refreshing = false;
    if (c->closing || r == NULL)
        return;
    const redisReply *reply = r;
    const char *why;
    size_t max = reply->type == REDIS_REPLY_ARRAY ? reply->elements : 0;
    struct rcluster_range *ranges = util_xcalloc(max ? max : 1, sizeof *ranges);
    const char *asked = ac && ac->c.tcp.host ? ac->c.tcp.host : "127.0.0.1";
    int n = rcluster_parse_slots(reply, asked, ranges, max, &why);
    if (n < 0 && !c->map_failing) /* a node of no Cluster, say: its answer is the reason */
        log_error("redis cluster: cannot read the slot map; trying again every 500 ms", "conn", c->name, "node", asked,
                  "error", reply->type == REDIS_REPLY_ERROR ? reply->str : why);
    else if (n >= 0)
        apply_map(c, ranges, n);
    c->map_failing = n < 0;
    c->map_reads += n >= 0;
    free(ranges);
    c->stale = n < 0 || !c->mapped;
    struct node *nd;
    TAILQ_FOREACH(nd, &c->nodes, link)
    {
        c->stale |= nd->master && !rnode_up(nd->conn); /* read again until its replica shows */
    }
    update_state(c);
}

/* Asks a connected node for the map: a master of the last map first. */
static void refresh(struct rcluster *c)
{
    if (c->refreshing || c->closing)
        return;
    struct node *n, *pick = NULL;
    TAILQ_FOREACH(n, &c->nodes, link)
    {
        if (!n->retired && rnode_up(n->conn) && (pick == NULL || (n->master && !pick->master)))
            pick = n;
    }
    if (pick && rnode_sendf(pick->conn, on_slots, c, "CLUSTER SLOTS") == 0)
        c->refreshing = true;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct rcluster *c = arg;
    (void)fd;
    (void)what;
    struct node *n, *next;
    for (n = TAILQ_FIRST(&c->nodes); n; n = next) {
        next = TAILQ_NEXT(n, link);
        if (n->retired)
            node_free(c, n);
    }
    if (c->stale || !c->mapped)
        refresh(c);
    update_state(c);
}

struct rcluster *rcluster_new(struct event_base *base, const char *seeds, const char *password, const char *name,
                              rcluster_state_fn *fn, void *data)
{
    const char *why;
    if (!rcluster_seeds_valid(seeds, &why))
        return NULL;
    struct rcluster *c = util_xcalloc(1, sizeof *c);
    c->base = base;
    c->password = password && *password ? util_xstrdup(password) : NULL;
    c->name = util_xstrdup(name);
    c->fn = fn;
    c->data = data;
    c->slots = util_xcalloc(RCLUSTER_SLOTS, sizeof *c->slots);
    c->stale = true;
    TAILQ_INIT(&c->nodes);
    c->timer = event_new(base, -1, EV_PERSIST, on_timer, c);
    struct timeval tv = {0, REFRESH_EVERY_MS * 1000};
    event_add(c->timer, &tv);
    (void)each_seed(seeds, add_seed, c, &why);
    return c;
}

/* The first ARGS_MAX arguments of the command WIRE, in place. */
static int wire_args(const char *wire, size_t len, const char **argv, size_t *lens)
{
    const char *p = wire, *end = wire + len;
    char *e;
    if (len < 4 || *p != '*')
        return -1;
    long argc = strtol(p + 1, &e, 10);
    if (argc < 1 || e + 2 > end)
        return -1;
    p = e + 2;
    int n = 0;
    for (; n < argc && n < ARGS_MAX; n++) {
        if (p >= end || *p != '$')
            return -1;
        long l = strtol(p + 1, &e, 10);
        if (l < 0 || e + 2 + l + 2 > end)
            return -1;
        argv[n] = e + 2;
        lens[n] = (size_t)l;
        p = e + 2 + l + 2;
    }
    return n;
}

/* The master the command ARGV (ARGC arguments, the first ARGS_MAX of
 * them) goes to: its key's slot's, or any for a command without a key;
 * NULL when none is known (or a transaction). */
static struct node *route(struct rcluster *c, int argc, const char *const *argv, const size_t *lens)
{
    int k = argc > 0 ? rcluster_key_index(argc, argv, lens) : -2;
    if (k == -2 || k >= argc) {
        log_error("redis cluster: a command that cannot be routed (a transaction, or a key past the first 16 "
                  "arguments) was not sent",
                  "conn", c->name);
        return NULL;
    }
    if (k >= 0)
        return c->slots[rcluster_slot(argv[k], lens[k])];
    struct node *n;
    TAILQ_FOREACH(n, &c->nodes, link)
    {
        if (n->master && rnode_up(n->conn))
            return n;
    }
    return NULL;
}

static int hop_send(struct node *n, struct hop *h, bool asking)
{
    if (n == NULL || !rnode_up(n->conn))
        return -1;
    snprintf(h->host, sizeof h->host, "%.*s", (int)(strrchr(n->addr, ':') - n->addr), n->addr);
    if (asking && rnode_sendf(n->conn, on_hop, NULL, "ASKING") != 0)
        return -1;
    return rnode_send_wire(n->conn, on_hop, h, h->wire, h->len);
}

/* Follows the redirection ERR of H; false when it is not one to follow. */
static bool redirect(struct hop *h, const char *err)
{
    struct rcluster *c = h->c;
    bool ask;
    unsigned slot;
    char addr[RCLUSTER_ADDR_MAX];
    if (h->redirects >= REDIRECTS_MAX || c->closing ||
        rcluster_parse_redirect(err, h->host, &ask, &slot, addr, sizeof addr) != 0)
        return false;
    h->redirects++;
    c->redirects++;
    struct node *n = node_get(c, addr);
    if (!ask && n) { /* the slot has moved for good: note it, and read the whole map soon */
        c->slots[slot] = n;
        c->stale = true;
    }
    if (hop_send(n, h, ask) != 0) { /* not connected yet: the caller retries, as after a loss */
        h->fn(NULL, NULL, h->priv);
        free(h);
    }
    return true;
}

static void on_hop(redisAsyncContext *ac, void *r, void *priv)
{
    struct hop *h = priv;
    const redisReply *reply = r;
    if (h == NULL) /* an ASKING's answer */
        return;
    if (reply && reply->type == REDIS_REPLY_ERROR && redirect(h, reply->str))
        return;
    if (reply == NULL && !h->c->closing)
        h->c->stale = true;
    h->fn(ac, r, h->priv);
    free(h);
}

/* SCRIPT LOAD: to every master connected now besides N, which answers
 * the caller, so an EVALSHA runs wherever its key leads. A master that
 * connects later (a replica promoted, a restart) gets them from the
 * caller's next load: every master connecting turns the Cluster up again,
 * and the daemon loads its scripts whenever its connection comes up. */
static void load_everywhere(struct rcluster *c, struct node *n, const char *wire, size_t len)
{
    struct node *m;
    TAILQ_FOREACH(m, &c->nodes, link)
    {
        if (m != n && m->master && rnode_up(m->conn) && rnode_send_wire(m->conn, on_hop, NULL, wire, len) != 0)
            log_debug("redis cluster: a script is loaded on a master when it connects again", "addr", m->addr);
    }
}

int rcluster_send_wire(struct rcluster *c, redisCallbackFn *fn, void *priv, const char *wire, size_t len)
{
    if (c->closing)
        return -1;
    const char *argv[ARGS_MAX];
    size_t lens[ARGS_MAX];
    int argc = wire_args(wire, len, argv, lens);
    struct node *n = route(c, argc, argv, lens);
    if (n && argc >= 2 && lens[0] == 6 && strncasecmp(argv[0], "SCRIPT", 6) == 0 && lens[1] == 4 &&
        strncasecmp(argv[1], "LOAD", 4) == 0)
        load_everywhere(c, n, wire, len);
    struct hop *h = util_xmalloc(sizeof *h + len);
    *h = (struct hop){.c = c, .fn = fn, .priv = priv, .len = len};
    memcpy(h->wire, wire, len);
    if (hop_send(n, h, false) != 0) {
        free(h);
        return -1;
    }
    return 0;
}

bool rcluster_up(const struct rcluster *c)
{
    return c->up;
}

unsigned long rcluster_reconnects(const struct rcluster *c)
{
    unsigned long n = c->retired_reconnects;
    struct node *nd;
    TAILQ_FOREACH(nd, &c->nodes, link)
    {
        n += rnode_reconnects(nd->conn);
    }
    return n;
}

unsigned long rcluster_redirects(const struct rcluster *c)
{
    return c->redirects;
}

unsigned long rcluster_map_reads(const struct rcluster *c)
{
    return c->map_reads;
}

void rcluster_free(struct rcluster *c)
{
    if (c == NULL)
        return;
    c->closing = true; /* callbacks that run now cannot send more */
    while (!TAILQ_EMPTY(&c->nodes))
        node_free(c, TAILQ_FIRST(&c->nodes));
    event_free(c->timer);
    free(c->slots);
    free(c->password);
    free(c->name);
    free(c);
}
