/* collector.c — the HTTP front of SPEC 1.2 (see collector.h). One request
 * is: route, inflate, parse (segment.c), authenticate, check the backlog,
 * then one MULTI ... EXEC round trip that writes all of its messages or
 * none, so a refused or failed request leaves nothing a retry would
 * duplicate (on a Redis Cluster, one XADD a message: see write_each). evhttp keeps a request alive until it is
 * answered, also when its client has gone, so every request is answered exactly once. */
#include "collector.h"
#include "clock.h"
#include "gunzip.h"
#include "listener.h"
#include "log.h"
#include "message.h"
#include "metrics.h"
#include "segment.h"
#include "stats.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#define COLLECTOR_WAITING_MAX 4096       /* requests waiting for Redis at once */
#define COLLECTOR_BODY_MAX (1024 * 1024) /* as sent; SEGMENT_* cap the inflated size */
#define COLLECTOR_HEADERS_MAX (16 * 1024)
#define COLLECTOR_TIMEOUT_S 10
#define COLLECTOR_CONNS_MAX 4096 /* keep-alive clients at once: a site's servers and browsers */
#define RETRY_AFTER_BACKLOG "2"
#define RETRY_AFTER_DOWN "5"

/* Routes, labelled for the metrics; the label set is fixed, so bounded. */
enum label { L_TRACK, L_PAGE, L_SCREEN, L_IDENTIFY, L_GROUP, L_ALIAS, L_BATCH, L_BEACON, L_OTHER, NLABELS };
static const char *const label_names[NLABELS] = {"track", "page",  "screen", "identify", "group",
                                                 "alias", "batch", "beacon", "other"};

struct route {
    const char *path;
    int type; /* a message_type, or -1: a batch */
    enum label label;
};

static const struct route routes[] = {
    {"/v1/track", MESSAGE_TRACK, L_TRACK},
    {"/v1/t", MESSAGE_TRACK, L_TRACK},
    {"/v1/page", MESSAGE_PAGE, L_PAGE},
    {"/v1/p", MESSAGE_PAGE, L_PAGE},
    {"/v1/screen", MESSAGE_SCREEN, L_SCREEN},
    {"/v1/s", MESSAGE_SCREEN, L_SCREEN},
    {"/v1/identify", MESSAGE_IDENTIFY, L_IDENTIFY},
    {"/v1/i", MESSAGE_IDENTIFY, L_IDENTIFY},
    {"/v1/group", MESSAGE_GROUP, L_GROUP},
    {"/v1/g", MESSAGE_GROUP, L_GROUP},
    {"/v1/alias", MESSAGE_ALIAS, L_ALIAS},
    {"/v1/a", MESSAGE_ALIAS, L_ALIAS},
    {"/v1/batch", -1, L_BATCH},
    {"/v1/b", -1, L_BATCH},
    {"/beacon/v1/batch", -1, L_BEACON},
};

static const int statuses[] = {200, 204, 400, 401, 404, 405, 413, 429, 500, 503};
#define NSTATUSES (sizeof statuses / sizeof statuses[0])

/* A request waiting for Redis to take its messages (XADD or EXEC). */
struct waiting {
    TAILQ_ENTRY(waiting) link;
    struct collector *c;
    struct evhttp_request *req;
    enum label label;
    size_t n;
    int64_t t0_us;
    /* On a Redis Cluster, one XADD a message: the answers still due (one
     * more while they are being sent), those that wrote, and the first
     * failure. */
    size_t left, written;
    bool oom;
    char why[160];
};
TAILQ_HEAD(waiting_list, waiting);

struct collector {
    struct listener *listener;
    struct rconn *rc;
    struct writekeys *keys;
    const char *const *streams; /* borrowed: shard k's events stream at k */
    unsigned shards;
    char *cors;
    bool cors_any;
    uint64_t max_backlog, backlog;
    struct waiting_list waiting;
    size_t nwaiting;
    char seed[17]; /* random, so generated messageIds differ across processes */
    uint64_t requests_seen;
    /* metrics */
    uint64_t requests[NLABELS][NSTATUSES];
    uint64_t messages_accepted, bytes_received;
    struct histogram duration;
};

static void count(struct collector *c, enum label l, int status, int64_t t0_us)
{
    for (size_t i = 0; i < NSTATUSES; i++)
        if (statuses[i] == status)
            c->requests[l][i]++;
    stats_observe(&c->duration, (double)(clock_mono_us() - t0_us) / 1e6);
}

static void send_json(struct collector *c, struct evhttp_request *req, enum label l, int status, const char *body,
                      int64_t t0_us)
{
    struct evbuffer *b = evbuffer_new();
    if (b == NULL)
        util_fatal("out of memory answering a request");
    evbuffer_add(b, body, strlen(body));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, status, NULL, b);
    evbuffer_free(b);
    count(c, l, status, t0_us);
}

/* Segment's error shape: {"success": false, "code", "message"}. */
static void send_error(struct collector *c, struct evhttp_request *req, enum label l, int status, const char *code,
                       const char *message, const char *retry_after, int64_t t0_us)
{
    json_t *j = json_pack("{s:b, s:s, s:s}", "success", 0, "code", code, "message", message);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (retry_after)
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", retry_after);
    send_json(c, req, l, status, s ? s : "{\"success\":false}", t0_us);
    free(s);
    json_decref(j);
}

static bool origin_allowed(const struct collector *c, const char *origin)
{
    size_t n = strlen(origin);
    if (c->cors_any)
        return true;
    for (const char *p = c->cors; (p = strstr(p, origin)) != NULL; p += n)
        if ((p == c->cors || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

/* The CORS headers every answer to an allowed origin carries. True when the
 * origin is allowed (or the request is not a browser's cross-origin one). */
static bool cors_headers(const struct collector *c, struct evhttp_request *req)
{
    const char *origin = evhttp_find_header(evhttp_request_get_input_headers(req), "Origin");
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    if (origin == NULL)
        return true;
    if (!origin_allowed(c, origin))
        return false;
    evhttp_add_header(out, "Access-Control-Allow-Origin", c->cors_any ? "*" : origin);
    if (!c->cors_any)
        evhttp_add_header(out, "Vary", "Origin");
    evhttp_add_header(out, "Access-Control-Expose-Headers", "Retry-After");
    return true;
}

/* The pre-flight: the headers analytics.js 1.84+ and RudderStack's SDK
 * send, and RudderStack's Rsa-* ones as asked for by name (a wildcard
 * would not cover Authorization). */
static void preflight(struct collector *c, struct evhttp_request *req, int64_t t0_us)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    if (cors_headers(c, req) && evhttp_find_header(evhttp_request_get_input_headers(req), "Origin")) {
        char allow[512] = "Authorization, Content-Type, Content-Encoding, X-Retry-Count, AnonymousId, SentAt";
        const char *asked = evhttp_find_header(evhttp_request_get_input_headers(req), "Access-Control-Request-Headers");
        for (const char *p = asked; p && *p;) {
            p += strspn(p, " ,");
            size_t n = strcspn(p, " ,");
            if (n > 4 && n < 64 && strncasecmp(p, "rsa-", 4) == 0 && strlen(allow) + n + 3 < sizeof allow)
                snprintf(allow + strlen(allow), sizeof allow - strlen(allow), ", %.*s", (int)n, p);
            p += n;
        }
        evhttp_add_header(out, "Access-Control-Allow-Methods", "POST, OPTIONS");
        evhttp_add_header(out, "Access-Control-Allow-Headers", allow);
        evhttp_add_header(out, "Access-Control-Max-Age", "86400");
    }
    evhttp_send_reply(req, 204, NULL, NULL);
    count(c, L_OTHER, 204, t0_us);
}

static const struct route *route_of(const char *path)
{
    for (size_t i = 0; path && i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp(path, routes[i].path) == 0)
            return &routes[i];
    return NULL;
}

/* The key of "Authorization: Basic base64(KEY:)" into OUT; -1 when the
 * header is not Basic or not base64. */
static int basic_key(const char *h, char *out, size_t outlen)
{
    if (strncasecmp(h, "Basic ", 6) != 0)
        return -1;
    h += 6;
    size_t n = strlen(h);
    unsigned char dec[400];
    if (n == 0 || n % 4 != 0 || n / 4 * 3 >= sizeof dec)
        return -1;
    int len = EVP_DecodeBlock(dec, (const unsigned char *)h, (int)n);
    if (len < 0)
        return -1;
    len -= (h[n - 1] == '=') + (h[n - 2] == '=');
    const unsigned char *colon = memchr(dec, ':', (size_t)len);
    size_t klen = colon ? (size_t)(colon - dec) : (size_t)len;
    if (klen >= outlen)
        return -1;
    memcpy(out, dec, klen);
    out[klen] = '\0';
    return 0;
}

/* SPEC 1.2: Basic, else the body's writeKey, else the query's; the first
 * one present decides. */
static bool authorised(const struct collector *c, struct evhttp_request *req, const char *body_key)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    char key[300];
    if (h)
        return basic_key(h, key, sizeof key) == 0 && writekeys_has(c->keys, key, strlen(key));
    if (body_key)
        return writekeys_has(c->keys, body_key, strlen(body_key));
    struct evkeyvalq q;
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    bool ok = false;
    if (query && evhttp_parse_query_str(query, &q) == 0) {
        const char *k = evhttp_find_header(&q, "writeKey");
        ok = k && writekeys_has(c->keys, k, strlen(k));
        evhttp_clear_headers(&q);
    }
    return ok;
}

/* Answers W's request: 200 once Redis holds its messages, else 503. */
static void finish(struct waiting *w, const char *why, bool oom)
{
    struct collector *c = w->c;
    TAILQ_REMOVE(&c->waiting, w, link);
    c->nwaiting--;
    c->messages_accepted += w->written;
    if (why == NULL) {
        send_json(c, w->req, w->label, 200, "{\"success\":true}", w->t0_us);
    } else {
        log_warn("collector: a request could not be written; the client is told to retry", "error", why);
        send_error(c, w->req, w->label, 503, "unavailable",
                   oom ? "Redis refuses writes: out of memory; retry later"
                       : "Redis did not take the messages; retry later",
                   RETRY_AFTER_DOWN, w->t0_us);
    }
    free(w);
}

/* Why REPLY (to a write) is a failure: NULL when it is an entry's id. */
static const char *failure(const redisReply *reply)
{
    return reply == NULL                       ? "redis connection lost"
           : reply->type == REDIS_REPLY_ERROR  ? reply->str
           : reply->type != REDIS_REPLY_STRING ? "the transaction was discarded"
                                               : NULL;
}

static bool is_oom(const redisReply *reply)
{
    return reply && reply->type == REDIS_REPLY_ERROR && strstr(reply->str, "OOM");
}

static void on_exec(redisAsyncContext *ac, void *r, void *priv)
{
    struct waiting *w = priv;
    redisReply *reply = r;
    (void)ac;
    bool ok = w->n == 1 ? failure(reply) == NULL : reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == w->n;
    w->written = ok ? w->n : 0;
    finish(w, ok ? NULL : failure(reply), is_oom(reply));
}

/* One of a request's writes on a Redis Cluster answered (or, REPLY
 * ANSWERED false, all were sent): the request is answered after the last. */
static void part_done(struct waiting *w, const redisReply *reply, bool answered)
{
    const char *why = answered ? failure(reply) : NULL;
    w->written += answered && why == NULL;
    if (why && w->why[0] == '\0') {
        snprintf(w->why, sizeof w->why, "%s", why);
        w->oom = is_oom(reply);
    }
    if (--w->left == 0)
        finish(w, w->why[0] ? w->why : NULL, w->oom);
}

static void on_part(redisAsyncContext *ac, void *r, void *priv)
{
    (void)ac;
    part_done(priv, r, true);
}

/* Message I of RES to its customer's shard stream, as a producer that
 * picks the shard writes it (SPEC 8). */
static int xadd(struct collector *c, const struct segment_result *res, size_t i, redisCallbackFn *fn, void *priv)
{
    const char *stream = c->streams[res->shards[i]];
    const char *argv[] = {"XADD", stream, "*", "message", res->messages[i]};
    const size_t lens[] = {4, strlen(stream), 1, 7, res->lens[i]};
    return rconn_send(c->rc, fn, priv, 5, argv, lens);
}

/* On a Redis Cluster, which refuses a MULTI across slots: one XADD a
 * message, each to its shard's master. A failure leaves the others
 * written, and the retry the client is told to make writes them again:
 * the consumer applies a messageId once (a message the client sent
 * without one is given a new one each time, so counts twice). */
static int write_each(struct collector *c, struct waiting *w, const struct segment_result *res)
{
    w->left = 1; /* held until every write is sent */
    for (size_t i = 0; i < res->n; i++) {
        if (xadd(c, res, i, on_part, w) != 0) {
            snprintf(w->why, sizeof w->why, "redis connection lost");
            break;
        }
        w->left++;
    }
    part_done(w, NULL, false);
    return 0;
}

/* One XADD, or MULTI, one XADD a message, EXEC: one round trip, all or
 * nothing. */
static int write_messages(struct collector *c, struct waiting *w, const struct segment_result *res)
{
    if (rconn_is_cluster(c->rc))
        return write_each(c, w, res);
    if (res->n == 1)
        return xadd(c, res, 0, on_exec, w);
    if (rconn_sendf(c->rc, rconn_ignore, NULL, "MULTI") != 0)
        return -1;
    for (size_t i = 0; i < res->n; i++)
        if (xadd(c, res, i, rconn_ignore, NULL) != 0)
            return -1;
    return rconn_sendf(c->rc, on_exec, w, "EXEC");
}

/* The body as JSON text: inflated when the client says gzip or deflate. */
static int read_body(struct evhttp_request *req, size_t max, char **owned, const char **body, size_t *len,
                     const char **why)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    const char *enc = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Encoding");
    *len = evbuffer_get_length(in);
    *body = (const char *)evbuffer_pullup(in, -1);
    *owned = NULL;
    if (*body == NULL)
        *body = "";
    if (enc == NULL || strcasecmp(enc, "identity") == 0)
        return 200;
    if (strcasecmp(enc, "gzip") != 0 && strcasecmp(enc, "deflate") != 0) {
        *why = "Content-Encoding must be gzip, deflate or none";
        return 400;
    }
    size_t n;
    switch (gunzip_capped(*body, *len, max, owned, &n)) {
    case GUNZIP_OK:
        *body = *owned;
        *len = n;
        return 200;
    case GUNZIP_TOO_LARGE: *why = "the inflated body is over the size limit"; return 413;
    case GUNZIP_BAD: break;
    }
    *why = "the body is not valid gzip";
    return 400;
}

static void process(struct collector *c, struct evhttp_request *req, const struct route *rt, int64_t t0_us)
{
    char *owned, prefix[48];
    const char *body, *why = NULL;
    size_t len;
    int st = read_body(req, rt->type < 0 ? SEGMENT_BATCH_MAX : SEGMENT_MESSAGE_MAX, &owned, &body, &len, &why);
    c->bytes_received += evbuffer_get_length(evhttp_request_get_input_buffer(req));
    if (st != 200) {
        send_error(c, req, rt->label, st, st == 413 ? "too_large" : "invalid_request", why, NULL, t0_us);
        return;
    }
    snprintf(prefix, sizeof prefix, "nudged-%s-%" PRIu64, c->seed, ++c->requests_seen);
    struct segment_request rq = {body, len, rt->type, clock_now_ms(), prefix, c->shards};
    struct segment_result res;
    segment_parse(&rq, &res);
    free(owned);
    if (!authorised(c, req, res.write_key))
        send_error(c, req, rt->label, 401, "unauthorized", "a valid write key is required (HTTP Basic, writeKey)", NULL,
                   t0_us);
    else if (res.status != 200)
        send_error(c, req, rt->label, res.status, res.code, res.message, NULL, t0_us);
    else if (!rconn_up(c->rc))
        send_error(c, req, rt->label, 503, "unavailable", "Redis is not reachable; retry later", RETRY_AFTER_DOWN,
                   t0_us);
    else if (c->backlog > c->max_backlog)
        send_error(c, req, rt->label, 429, "rate_limited", "nudged is behind on its events; retry later",
                   RETRY_AFTER_BACKLOG, t0_us);
    else if (c->nwaiting >= COLLECTOR_WAITING_MAX)
        send_error(c, req, rt->label, 503, "unavailable", "too many requests waiting for Redis; retry later", "1",
                   t0_us);
    else if (res.n == 0)
        send_json(c, req, rt->label, 200, "{\"success\":true}", t0_us);
    else {
        struct waiting *w = util_xcalloc(1, sizeof *w);
        *w = (struct waiting){.c = c, .req = req, .label = rt->label, .n = res.n, .t0_us = t0_us};
        TAILQ_INSERT_TAIL(&c->waiting, w, link);
        c->nwaiting++;
        if (write_messages(c, w, &res) != 0) { /* the connection went down: its callbacks do not run */
            TAILQ_REMOVE(&c->waiting, w, link);
            c->nwaiting--;
            free(w);
            send_error(c, req, rt->label, 503, "unavailable", "Redis is not reachable; retry later", RETRY_AFTER_DOWN,
                       t0_us);
        }
    }
    segment_result_free(&res);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct collector *c = arg;
    int64_t t0_us = clock_mono_us();
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    if (method == EVHTTP_REQ_OPTIONS) {
        preflight(c, req, t0_us);
        return;
    }
    cors_headers(c, req);
    const struct route *rt = route_of(evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req)));
    if (rt == NULL)
        send_error(c, req, L_OTHER, 404, "not_found",
                   "no such path: POST /v1/track, /v1/page, /v1/screen, /v1/identify, /v1/group, /v1/alias, "
                   "/v1/batch (or /v1/t, /v1/p, /v1/s, /v1/i, /v1/g, /v1/a, /v1/b), /beacon/v1/batch",
                   NULL, t0_us);
    else if (method != EVHTTP_REQ_POST)
        send_error(c, req, rt->label, 405, "method_not_allowed", "use POST", NULL, t0_us);
    else
        process(c, req, rt, t0_us);
}

struct collector *collector_new(struct event_base *base, const struct collector_config *cfg, struct rconn *rc,
                                struct writekeys *keys)
{
    static const struct listener_limits lim = {.max_headers = COLLECTOR_HEADERS_MAX,
                                               .max_body = COLLECTOR_BODY_MAX,
                                               .timeout_s = COLLECTOR_TIMEOUT_S,
                                               /* every method, so that the others get Segment's 405, not evhttp's */
                                               .methods = EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                                          EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
                                                          EVHTTP_REQ_PATCH,
                                               .max_conns = COLLECTOR_CONNS_MAX,
                                               .name = "collector"};
    struct collector *c = util_xcalloc(1, sizeof *c);
    TAILQ_INIT(&c->waiting);
    c->rc = rc;
    c->keys = keys;
    c->streams = cfg->streams;
    c->shards = cfg->shards;
    c->cors = util_xstrdup(cfg->cors_origins);
    c->cors_any = strcmp(cfg->cors_origins, "*") == 0;
    c->max_backlog = cfg->max_backlog;
    unsigned char r[8];
    if (RAND_bytes(r, sizeof r) != 1)
        util_fatal("no random bytes for the collector's message ids");
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(c->seed + 2 * i, 3, "%02x", r[i]);
    c->listener = listener_new(base, cfg->listen, &lim, on_request, c);
    if (c->listener == NULL) {
        collector_free(c);
        return NULL;
    }
    return c;
}

void collector_set_keys(struct collector *c, struct writekeys *keys)
{
    writekeys_free(c->keys);
    c->keys = keys;
}

void collector_set_backlog(struct collector *c, uint64_t backlog)
{
    c->backlog = backlog;
}

int collector_port(const struct collector *c)
{
    return listener_port(c->listener);
}

void collector_metrics(const struct collector *c, struct buf *out)
{
    int rc = util_buf_adds(out, "# HELP nudged_collector_requests_total Collector requests by route and status.\n"
                                "# TYPE nudged_collector_requests_total counter\n");
    for (size_t l = 0; l < NLABELS; l++)
        for (size_t s = 0; s < NSTATUSES; s++)
            if (c->requests[l][s])
                rc |= util_buf_printf(out, "nudged_collector_requests_total{route=\"%s\",status=\"%d\"} %" PRIu64 "\n",
                                      label_names[l], statuses[s], c->requests[l][s]);
    (void)rc; /* at the buffer's maximum the scrape is cut short, never overrun */
    metrics_gauge(out, "nudged_collector_messages_total", "Messages the collector wrote to the events stream.",
                  c->messages_accepted, "counter");
    metrics_gauge(out, "nudged_collector_received_bytes_total", "Request body bytes received, as sent.",
                  c->bytes_received, "counter");
    metrics_gauge(out, "nudged_collector_waiting", "Requests waiting for Redis to confirm their messages.", c->nwaiting,
                  "gauge");
    metrics_histogram(out, "nudged_collector_request_seconds", "From a request read to its answer.", &c->duration);
}

void collector_free(struct collector *c)
{
    if (c == NULL)
        return;
    /* The connection's callbacks ran before (teardown order), so nothing
     * waits here; what might would be answered by evhttp_free's cleanup. */
    while (!TAILQ_EMPTY(&c->waiting)) {
        struct waiting *w = TAILQ_FIRST(&c->waiting);
        TAILQ_REMOVE(&c->waiting, w, link);
        free(w);
    }
    listener_free(c->listener);
    writekeys_free(c->keys);
    free(c->cors);
    free(c);
}
