/* loadgen.c — an open-loop HTTP load for make bench-collector: RATE
 * requests a second of one body over CONNS keep-alive connections for
 * SECONDS, each request's latency measured from its scheduled time (so a
 * slow answer delays the count, not the schedule: no coordinated omission).
 * Prints "sent ok p50_us p99_us max_us".
 *
 *   loadgen HOST PORT PATH BODY_FILE AUTH CONNS RATE SECONDS
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

struct conn {
    struct evhttp_connection *c;
    struct gen *g;
    int64_t due_us; /* the scheduled time of the request in flight */
    TAILQ_ENTRY(conn) idle_link;
};

struct gen {
    struct event_base *base;
    const char *host, *path, *auth;
    char *body;
    size_t body_len;
    TAILQ_HEAD(, conn) idle;
    int64_t start_us, end_us, sent, ok, inflight, backlog_head, backlog_tail;
    int64_t *backlog; /* scheduled times waiting for a free connection */
    int64_t *lat;
    size_t nlat, cap;
    int rate;
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void issue(struct gen *g, struct conn *c, int64_t due);

static void on_done(struct evhttp_request *req, void *arg)
{
    struct conn *c = arg;
    struct gen *g = c->g;
    g->inflight--;
    if (req && evhttp_request_get_response_code(req) == 200)
        g->ok++;
    if (g->nlat < g->cap)
        g->lat[g->nlat++] = now_us() - c->due_us;
    if (g->backlog_head < g->backlog_tail)
        issue(g, c, g->backlog[g->backlog_head++]);
    else
        TAILQ_INSERT_TAIL(&g->idle, c, idle_link);
}

static void issue(struct gen *g, struct conn *c, int64_t due)
{
    struct evhttp_request *req = evhttp_request_new(on_done, c);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", g->host);
    evhttp_add_header(h, "Content-Type", "text/plain");
    evhttp_add_header(h, "Authorization", g->auth);
    evbuffer_add(evhttp_request_get_output_buffer(req), g->body, g->body_len);
    c->due_us = due;
    g->sent++;
    g->inflight++;
    evhttp_make_request(c->c, req, EVHTTP_REQ_POST, g->path);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct gen *g = arg;
    (void)fd;
    (void)what;
    int64_t now = now_us();
    if (now >= g->end_us) {
        if (g->inflight > 0 || g->backlog_head < g->backlog_tail)
            return; /* wait for the answers in flight */
        event_base_loopbreak(g->base);
        return;
    }
    /* Every request due by now: on an idle connection, else queued. */
    int64_t due_n = (now - g->start_us) * g->rate / 1000000 + 1; /* request k is due at k / rate */
    while (g->backlog_tail < due_n && (size_t)g->backlog_tail < g->cap) {
        g->backlog[g->backlog_tail] = g->start_us + g->backlog_tail * 1000000 / g->rate;
        g->backlog_tail++;
    }
    while (g->backlog_head < g->backlog_tail && !TAILQ_EMPTY(&g->idle)) {
        struct conn *c = TAILQ_FIRST(&g->idle);
        TAILQ_REMOVE(&g->idle, c, idle_link);
        issue(g, c, g->backlog[g->backlog_head++]);
    }
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

int main(int argc, char **argv)
{
    if (argc != 9) {
        fprintf(stderr, "usage: loadgen HOST PORT PATH BODY_FILE AUTH CONNS RATE SECONDS\n");
        return 2;
    }
    struct gen g = {0};
    g.host = argv[1];
    g.path = argv[3];
    g.auth = argv[5];
    g.body = slurp(argv[4], &g.body_len);
    int conns = atoi(argv[6]), secs = atoi(argv[8]);
    g.rate = atoi(argv[7]);
    if (!g.body || conns < 1 || g.rate < 1 || secs < 1)
        return 2;
    /* Timers to the microsecond (timerfd), not epoll's millisecond. */
    struct event_config *ec = event_config_new();
    event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    g.base = event_base_new_with_config(ec);
    event_config_free(ec);
    g.cap = (size_t)g.rate * (size_t)secs + 16;
    g.lat = calloc(g.cap, sizeof *g.lat);
    g.backlog = calloc(g.cap, sizeof *g.backlog);
    TAILQ_INIT(&g.idle);
    struct conn *cs = calloc((size_t)conns, sizeof *cs);
    for (int i = 0; i < conns; i++) {
        cs[i].g = &g;
        cs[i].c = evhttp_connection_base_new(g.base, NULL, argv[1], (unsigned short)atoi(argv[2]));
        TAILQ_INSERT_TAIL(&g.idle, &cs[i], idle_link);
    }
    g.start_us = now_us();
    g.end_us = g.start_us + (int64_t)secs * 1000000;
    struct event *tick = event_new(g.base, -1, EV_PERSIST, on_tick, &g);
    struct timeval tv = {0, 200};
    event_add(tick, &tv);
    event_base_dispatch(g.base);
    qsort(g.lat, g.nlat, sizeof *g.lat, cmp);
    int64_t p50 = g.nlat ? g.lat[g.nlat / 2] : 0, p99 = g.nlat ? g.lat[g.nlat * 99 / 100] : 0;
    printf("%lld %lld %lld %lld %lld\n", (long long)g.sent, (long long)g.ok, (long long)p50, (long long)p99,
           (long long)(g.nlat ? g.lat[g.nlat - 1] : 0));
    for (int i = 0; i < conns; i++)
        evhttp_connection_free(cs[i].c);
    event_free(tick);
    event_base_free(g.base);
    free(cs);
    free(g.lat);
    free(g.backlog);
    free(g.body);
    return 0;
}
