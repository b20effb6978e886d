/* rnode.c — a self-healing hiredis async connection on libevent.
 *
 * PITFALLS for hiredis 0.14 shape this file: the async context is never freed
 * from inside its own callbacks (a 0 ms timer does it), our pointer to it is
 * cleared in the disconnect callback, and every command goes through a small
 * wrapper so a reply deadline can tell a hung server from a quiet one.
 */
#include "rnode.h"
#include "clock.h"
#include "log.h"
#include "rarena.h"
#include "util.h"

#include <hiredis/adapters/libevent.h>
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_TIMEOUT_MS 5000
#define REPLY_TIMEOUT_MS 15000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define DEMOTED_CLEAR_MS 10000

struct rnode {
    struct event_base *base;
    redisAsyncContext *ac; /* NULL while down */
    struct rarena *arena;  /* the replies of every connection in turn */
    char *host, *path, *password, *name;
    int port, db;
    bool up, ever_up;
    bool demoted;     /* the server answered READONLY: it is a replica now; reconnecting */
    bool was_demoted; /* the last connection ended so: the backoff keeps growing until one lasts DEMOTED_CLEAR_MS */
    int64_t up_since_ms;
    unsigned long reconnects;
    long inflight;
    int64_t last_reply_ms;
    int backoff_ms;
    struct event *retry_timer, *watch_timer, *drop_timer;
    int64_t connect_started_ms;
    rnode_state_fn *fn;
    void *data;
};

/* One command's callback and the connection it went on. */
struct pending {
    struct rnode *rc;
    redisCallbackFn *fn;
    void *priv;
};

static void start_connect(struct rnode *rc);

static void schedule_retry(struct rnode *rc)
{
    /* Full jitter: many nudged processes must not reconnect in step. */
    int delay = BACKOFF_MIN_MS + (int)(random() % rc->backoff_ms);
    rc->backoff_ms = rc->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : rc->backoff_ms * 2;
    struct timeval tv = {delay / 1000, (delay % 1000) * 1000};
    evtimer_add(rc->retry_timer, &tv);
}

static void set_down(struct rnode *rc, const char *why)
{
    bool was_up = rc->up;
    rc->ac = NULL;
    rc->up = false;
    rc->inflight = 0;
    if (rc->demoted)
        why = "the server became a replica (a failover): connecting to the address again, for its primary";
    rc->was_demoted = rc->demoted;
    rc->demoted = false;
    log_warn(was_up ? "redis connection lost" : "redis connect failed", "conn", rc->name, "error", why);
    schedule_retry(rc);
    rc->fn(rc, false, rc->data);
}

static void on_auth(redisAsyncContext *ac, void *r, void *priv)
{
    struct rnode *rc = priv;
    redisReply *reply = r;
    (void)ac;
    if (reply == NULL)
        return; /* the disconnect callback follows */
    if (reply->type == REDIS_REPLY_ERROR) {
        log_error("redis refused the password or database", "conn", rc->name, "error", reply->str);
        redisAsyncDisconnect(rc->ac);
        return;
    }
    if (rc->up)
        return;
    rc->up = true;
    rc->up_since_ms = clock_mono_ms();
    if (!rc->was_demoted) /* an address that still leads to a replica is tried less and less often */
        rc->backoff_ms = BACKOFF_MIN_MS;
    if (rc->ever_up)
        rc->reconnects++;
    rc->ever_up = true;
    log_info("redis connected", "conn", rc->name);
    rc->fn(rc, true, rc->data);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct rnode *rc = ac->data;
    if (status != REDIS_OK) {
        /* hiredis frees the context itself; no disconnect callback follows. */
        set_down(rc, ac->errstr);
        return;
    }
    redisEnableKeepAlive((redisContext *)&ac->c);
    rc->last_reply_ms = clock_mono_ms();
    /* AUTH and SELECT first; hiredis runs them in order, we go up on the last. */
    if (rc->password)
        redisAsyncCommand(rc->ac, on_auth, rc, "AUTH %s", rc->password);
    redisAsyncCommand(rc->ac, on_auth, rc, "SELECT %d", rc->db);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct rnode *rc = ac->data;
    (void)status;
    set_down(rc, ac->err ? ac->errstr : "disconnected");
}

static void start_connect(struct rnode *rc)
{
    redisAsyncContext *ac = rc->path ? redisAsyncConnectUnix(rc->path) : redisAsyncConnect(rc->host, rc->port);
    if (ac == NULL || ac->err) {
        log_warn("redis connect failed", "conn", rc->name, "error", ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        schedule_retry(rc);
        rc->fn(rc, false, rc->data);
        return;
    }
    ac->data = rc;
    rc->ac = ac;
    rarena_attach(rc->arena, ac->c.reader);
    rc->connect_started_ms = clock_mono_ms();
    redisLibeventAttach(ac, rc->base);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    start_connect(arg);
}

/* Once a second: a connect that hangs, or replies that stopped coming while
 * commands wait, means the server is gone; drop the connection to recover. */
static void on_watch(evutil_socket_t fd, short what, void *arg)
{
    struct rnode *rc = arg;
    (void)fd;
    (void)what;
    int64_t now = clock_mono_ms();
    if (rc->ac == NULL)
        return;
    if (rc->was_demoted && rc->up && !rc->demoted && now - rc->up_since_ms >= DEMOTED_CLEAR_MS) {
        rc->was_demoted = false; /* a primary again: the next loss retries soon */
        rc->backoff_ms = BACKOFF_MIN_MS;
    }
    bool stuck_connect = !(rc->ac->c.flags & REDIS_CONNECTED) && now - rc->connect_started_ms > CONNECT_TIMEOUT_MS;
    bool stuck_reply = rc->inflight > 0 && now - rc->last_reply_ms > REPLY_TIMEOUT_MS;
    if (stuck_connect || stuck_reply) {
        log_warn("redis not answering, reconnecting", "conn", rc->name);
        redisAsyncContext *ac = rc->ac;
        if (stuck_connect) {
            /* No disconnect callback runs for a connect that never finished. */
            ac->onDisconnect = NULL;
            redisAsyncFree(ac);
            set_down(rc, "connect timeout");
        } else {
            redisAsyncFree(ac); /* runs callbacks with NULL, then on_disconnect */
        }
    }
}

/* After a failover behind one address (a Sentinel-managed name, a virtual
 * IP), the old primary answers every write READONLY on the connections it
 * kept; only a new connection reaches the new primary. Dropped from a
 * timer, outside hiredis's callbacks; the replies still due run first. */
static void on_drop(evutil_socket_t fd, short what, void *arg)
{
    struct rnode *rc = arg;
    (void)fd;
    (void)what;
    if (rc->ac && rc->demoted)
        redisAsyncDisconnect(rc->ac);
}

static void notice_demotion(struct rnode *rc, const redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ERROR || strncmp(reply->str, "READONLY", 8) != 0 || rc->demoted)
        return;
    rc->demoted = true;
    struct timeval now = {0, 0};
    evtimer_add(rc->drop_timer, &now);
}

static int parse_url(struct rnode *rc, const char *url)
{
    char host[256];
    int port = 6379, db = 0;
    if (strncmp(url, "unix://", 7) == 0) {
        rc->path = util_xstrdup(url + 7);
        return 0;
    }
    if (strncmp(url, "redis://", 8) != 0)
        return -1;
    const char *p = url + 8, *end = p + strcspn(p, ":/");
    if (end == p || (size_t)(end - p) >= sizeof host)
        return -1;
    memcpy(host, p, (size_t)(end - p));
    host[end - p] = '\0';
    if (*end == ':' && sscanf(end + 1, "%d", &port) != 1)
        return -1;
    const char *slash = strchr(end, '/');
    if (slash && slash[1] && sscanf(slash + 1, "%d", &db) != 1)
        return -1;
    rc->host = util_xstrdup(host);
    rc->port = port;
    rc->db = db;
    return 0;
}

struct rnode *rnode_new(struct event_base *base, const char *url, const char *password, const char *name,
                        rnode_state_fn *fn, void *data)
{
    struct rnode *rc = util_xcalloc(1, sizeof *rc);
    if (parse_url(rc, url) != 0) {
        free(rc);
        return NULL;
    }
    rc->base = base;
    rc->password = password && *password ? util_xstrdup(password) : NULL;
    rc->name = util_xstrdup(name);
    rc->fn = fn;
    rc->data = data;
    rc->backoff_ms = BACKOFF_MIN_MS;
    rc->arena = rarena_new();
    rc->retry_timer = evtimer_new(base, on_retry, rc);
    rc->watch_timer = event_new(base, -1, EV_PERSIST, on_watch, rc);
    rc->drop_timer = evtimer_new(base, on_drop, rc);
    struct timeval sec = {1, 0};
    evtimer_add(rc->watch_timer, &sec);
    start_connect(rc);
    return rc;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    struct pending *p = priv;
    if (reply) {
        p->rc->inflight--;
        p->rc->last_reply_ms = clock_mono_ms();
        notice_demotion(p->rc, reply);
    }
    p->fn(ac, reply, p->priv);
    free(p);
}

/* The callback data of a command about to be queued, or NULL when down. */
static struct pending *pending_new(struct rnode *rc, redisCallbackFn *fn, void *priv)
{
    if (!rc->up || rc->ac == NULL || rc->demoted)
        return NULL;
    struct pending *p = util_xmalloc(sizeof *p);
    *p = (struct pending){rc, fn, priv};
    if (rc->inflight == 0)
        rc->last_reply_ms = clock_mono_ms();
    return p;
}

static int pending_queued(struct rnode *rc, struct pending *p, int r)
{
    if (r != REDIS_OK) {
        free(p);
        return -1;
    }
    rc->inflight++;
    return 0;
}

int rnode_send(struct rnode *rc, redisCallbackFn *fn, void *priv, int argc, const char **argv, const size_t *lens)
{
    struct pending *p = pending_new(rc, fn, priv);
    return p ? pending_queued(rc, p, redisAsyncCommandArgv(rc->ac, on_reply, p, argc, argv, lens)) : -1;
}

int rnode_send_wire(struct rnode *rc, redisCallbackFn *fn, void *priv, const char *wire, size_t len)
{
    struct pending *p = pending_new(rc, fn, priv);
    return p ? pending_queued(rc, p, redisAsyncFormattedCommand(rc->ac, on_reply, p, wire, len)) : -1;
}

int rnode_vsendf(struct rnode *rc, redisCallbackFn *fn, void *priv, const char *fmt, va_list ap)
{
    struct pending *p = pending_new(rc, fn, priv);
    return p ? pending_queued(rc, p, redisvAsyncCommand(rc->ac, on_reply, p, fmt, ap)) : -1;
}

int rnode_sendf(struct rnode *rc, redisCallbackFn *fn, void *priv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = rnode_vsendf(rc, fn, priv, fmt, ap);
    va_end(ap);
    return r;
}

bool rnode_up(const struct rnode *rc)
{
    return rc->up;
}

unsigned long rnode_reconnects(const struct rnode *rc)
{
    return rc->reconnects;
}

void rnode_free(struct rnode *rc)
{
    if (rc == NULL)
        return;
    if (rc->ac) {
        redisAsyncContext *ac = rc->ac;
        ac->onDisconnect = NULL; /* we are going away: no state callback */
        rc->up = false;          /* callbacks that run now cannot send more */
        redisAsyncFree(ac);
    }
    rarena_free(rc->arena); /* after the context: freeing it frees a reply being read */
    event_free(rc->retry_timer);
    event_free(rc->watch_timer);
    event_free(rc->drop_timer);
    free(rc->host);
    free(rc->path);
    free(rc->password);
    free(rc->name);
    free(rc);
}
