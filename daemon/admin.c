/* admin.c — a small evhttp server for operators. Requests are handled on
 * the loop and answered at once, but for the customer routes, which wait
 * for Redis; so a stuck Redis still gets an honest /healthz. evhttp keeps
 * a request alive until it is answered, also when its client has gone, so
 * every request is answered exactly once. */
#include "admin.h"
#include "listener.h"
#include "log.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#define ADMIN_METRICS_MAX (1024 * 1024)

struct admin_pending {
    struct admin *a;
    struct evhttp_request *req;
    TAILQ_ENTRY(admin_pending) link;
};

struct admin {
    struct listener *listener;
    TAILQ_HEAD(, admin_pending) pending; /* requests waiting for Redis */
    char *token;
    struct admin_ops ops;
    void *data;
};

static void reply(struct evhttp_request *req, int code, const char *type, const char *body)
{
    struct evbuffer *b = evbuffer_new();
    if (b == NULL)
        return;
    evbuffer_add(b, body, strlen(body));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
    evhttp_send_reply(req, code, NULL, b);
    evbuffer_free(b);
}

/* Replies with J as JSON and drops the reference. */
static void reply_json(struct evhttp_request *req, int code, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    reply(req, code, "application/json", s ? s : "{}");
    free(s);
    json_decref(j);
}

static bool authorised(const struct admin *a, struct evhttp_request *req)
{
    if (a->token == NULL)
        return true;
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    size_t n = strlen(a->token);
    return h && strncmp(h, "Bearer ", 7) == 0 && strlen(h + 7) == n && CRYPTO_memcmp(h + 7, a->token, n) == 0;
}

void admin_reply(struct admin_pending *p, int code, json_t *body)
{
    reply_json(p->req, code, body); /* frees the request, if its client has gone too */
    TAILQ_REMOVE(&p->a->pending, p, link);
    free(p);
}

static struct admin_pending *pending_new(struct admin *a, struct evhttp_request *req)
{
    struct admin_pending *p = util_xcalloc(1, sizeof *p);
    p->a = a;
    p->req = req;
    TAILQ_INSERT_TAIL(&a->pending, p, link);
    return p;
}

static void do_customer(struct admin *a, struct evhttp_request *req, const char *path, bool erase)
{
    size_t n = 0;
    char *id = evhttp_uridecode(path + 14, 0, &n);
    /* A %00 would cut the id short: DELETE /v1/customers/v%00x must not
     * erase customer v. */
    if (id == NULL || id[0] == '\0' || strlen(id) != n || n > 256 || strchr(id, '/')) {
        reply_json(req, 400,
                   json_pack("{s:s}", "error", "a customer id is 1 to 256 bytes without NUL: /v1/customers/ID"));
        free(id);
        return;
    }
    a->ops.customer(a->data, erase, id, pending_new(a, req));
    free(id);
}

static void do_triggers(struct admin *a, struct evhttp_request *req)
{
    a->ops.triggers(a->data, pending_new(a, req));
}

static void do_reload(struct admin *a, struct evhttp_request *req)
{
    struct errlist errs = {0};
    if (a->ops.reload(a->data, &errs) == 0) {
        reply_json(req, 200, json_pack("{s:b}", "reloaded", 1));
    } else {
        json_t *list = json_array();
        for (size_t i = 0; i < errs.n; i++)
            json_array_append_new(list, json_string(errs.lines[i]));
        reply_json(req, 422,
                   json_pack("{s:s, s:o}", "error", "the triggers have errors; the old set stays", "errors", list));
    }
    errlist_clear(&errs);
}

static void do_metrics(struct admin *a, struct evhttp_request *req)
{
    struct buf b;
    util_buf_init(&b, ADMIN_METRICS_MAX);
    a->ops.metrics(a->data, &b);
    char *text = util_buf_steal(&b);
    reply(req, 200, "text/plain; version=0.0.4", text);
    free(text);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct admin *a = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    if (path == NULL)
        path = "";
    if (!authorised(a, req)) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", "Bearer");
        reply_json(req, 401, json_pack("{s:s}", "error", "a bearer token is required"));
    } else if (strcmp(path, "/healthz") == 0 && method == EVHTTP_REQ_GET) {
        const char *why = NULL;
        bool ok = a->ops.healthy(a->data, &why);
        reply_json(req, ok ? 200 : 503,
                   ok ? json_pack("{s:s}", "status", "ok")
                      : json_pack("{s:s, s:s}", "status", "unavailable", "reason", why ? why : ""));
    } else if (strcmp(path, "/metrics") == 0 && method == EVHTTP_REQ_GET) {
        do_metrics(a, req);
    } else if (strcmp(path, "/v1/reload") == 0 && method == EVHTTP_REQ_POST) {
        do_reload(a, req);
    } else if (strcmp(path, "/v1/triggers") == 0 && method == EVHTTP_REQ_GET) {
        do_triggers(a, req);
    } else if (strncmp(path, "/v1/customers/", 14) == 0 && (method == EVHTTP_REQ_GET || method == EVHTTP_REQ_DELETE)) {
        do_customer(a, req, path, method == EVHTTP_REQ_DELETE);
    } else {
        reply_json(req, 404,
                   json_pack("{s:s}", "error",
                             "no such route: GET /healthz, GET /metrics, POST /v1/reload, "
                             "GET or DELETE /v1/customers/ID, GET /v1/triggers"));
    }
}

struct admin *admin_new(struct event_base *base, const char *listen, const char *token, const struct admin_ops *ops,
                        void *data)
{
    /* Requests are small: a cap on headers and body, and an idle timeout,
     * so nobody holds memory or descriptors before the token check. */
    static const struct listener_limits lim = {.max_headers = 8 * 1024,
                                               .max_body = 64 * 1024,
                                               .timeout_s = 10,
                                               .methods = EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE,
                                               .max_conns = 64,
                                               .name = "admin"};
    struct admin *a = util_xcalloc(1, sizeof *a);
    TAILQ_INIT(&a->pending);
    a->ops = *ops;
    a->data = data;
    a->token = token && *token ? util_xstrdup(token) : NULL;
    a->listener = listener_new(base, listen, &lim, on_request, a);
    if (a->listener == NULL) {
        admin_free(a);
        return NULL;
    }
    return a;
}

void admin_free(struct admin *a)
{
    if (a == NULL)
        return;
    while (!TAILQ_EMPTY(&a->pending)) { /* the daemon's Redis callbacks ran before (teardown order) */
        struct admin_pending *p = TAILQ_FIRST(&a->pending);
        TAILQ_REMOVE(&a->pending, p, link);
        free(p);
    }
    listener_free(a->listener);
    if (a->token)
        OPENSSL_cleanse(a->token, strlen(a->token));
    free(a->token);
    free(a);
}
