/* http.c — libcurl multi on libevent, after curl's docs/examples/hiperfifo.c.
 *
 * The client is the user data of every curl callback (no statics). Curl's
 * socket callback keeps one persistent event per socket via
 * curl_multi_assign; the timer callback arms one libevent timer. Completed
 * transfers are collected after curl_multi_socket_action returns, never from
 * inside a curl callback, where curl_multi_* calls are refused. curl is
 * given only the transfers a host has a connection for (hostq.c); the
 * others wait here, their timeout running, as it would in curl's queue.
 */
#include "http.h"
#include "clock.h"
#include "hostq.h"
#include "log.h"
#include "util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

struct pool {
    CURL **easy;
    size_t n, cap;
    bool reset; /* reset a handle put back (mail) rather than only unhook it (webhooks) */
};

struct http {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    size_t inflight;
    TAILQ_HEAD(, transfer) list; /* every transfer in flight or waiting, for http_free */
    struct hostq *hosts;         /* the running and waiting transfers per host */
    struct pool web, mail;       /* finished easy handles kept for reuse */
};

static size_t discard_body(char *p, size_t size, size_t n, void *userdata)
{
    (void)p;
    (void)userdata;
    return size * n;
}

/* Options every webhook handle has, set once when it is made; each request
 * sets all the others (set_options), so a webhook handle is reused as it
 * is: curl_easy_reset and setting these again would be paid on every
 * webhook for options that never change. */
static CURL *web_new(void)
{
    CURL *e = curl_easy_init();
    if (e == NULL)
        return NULL;
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    return e;
}

/* A webhook handle as it was left, or a new one. */
static CURL *web_get(struct http *h)
{
    return h->web.n > 0 ? h->web.easy[--h->web.n] : web_new();
}

/* A mail handle, reset when it was put back (easy_put). */
static CURL *mail_get(struct http *h)
{
    return h->mail.n > 0 ? h->mail.easy[--h->mail.n] : curl_easy_init();
}

/* An easy handle costs an allocation and its setup; keep finished ones, up
 * to the connection cap of each kind, without pointers into the finished
 * transfer. A mail handle is reset: an earlier mail may have set a user
 * and password that the next must not send (mail is rare; the reset does
 * not matter). A webhook handle forgets only its pointers. */
static void easy_put(struct pool *p, CURL *e)
{
    if (p->n == p->cap) {
        curl_easy_cleanup(e);
        return;
    }
    if (p->reset) {
        curl_easy_reset(e);
    } else {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(e, CURLOPT_PRIVATE, NULL);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
    }
    p->easy[p->n++] = e;
}

static void pool_init(struct pool *p, size_t cap, bool reset)
{
    *p = (struct pool){util_xcalloc(cap, sizeof *p->easy), 0, cap, reset};
}

static void pool_free(struct pool *p)
{
    while (p->n > 0)
        curl_easy_cleanup(p->easy[--p->n]);
    free(p->easy);
}

struct transfer {
    struct http *h;
    CURL *easy;
    struct pool *pool;          /* where EASY goes back to */
    struct curl_slist *headers; /* HTTP headers, or the SMTP recipients */
    char *body;
    size_t sent; /* SMTP: bytes of BODY uploaded so far */
    char *user, *password;
    char errbuf[CURL_ERROR_SIZE];
    http_done_fn *done;
    void *data;
    TAILQ_ENTRY(transfer) link; /* in http's list of every transfer */
    char host[HOSTQ_KEY_MAX];
    long timeout_ms;     /* the whole time it may take, its wait included; 0: none */
    int64_t asked_ms;    /* clock_mono_ms when it was asked for */
    int64_t waited_ms;   /* how long it waited for its host */
    struct event *wait;  /* while it waits for its host: the end of its timeout, if any */
    bool in_curl;        /* added to the multi handle */
    struct transfer *up; /* pass_turn's list of those that could not start, */
    CURLcode unsent;     /* and why */
};

static void unlink_transfer(struct transfer *t)
{
    TAILQ_REMOVE(&t->h->list, t, link);
}

static void transfer_free(struct transfer *t)
{
    easy_put(t->pool, t->easy);
    curl_slist_free_all(t->headers);
    free(t->body);
    free(t->user);
    if (t->password)
        memset(t->password, 0, strlen(t->password));
    free(t->password);
    free(t);
}

/* Ends T, which is no longer in curl: its callback, then T is freed. */
static void end(struct transfer *t, const struct http_result *res)
{
    t->h->inflight--;
    unlink_transfer(t);
    t->done(res, t->data);
    transfer_free(t);
}

/* Ends T, which never reached curl, with CODE. */
static void end_unsent(struct transfer *t, CURLcode code)
{
    if (code == CURLE_OPERATION_TIMEDOUT)
        snprintf(t->errbuf, sizeof t->errbuf, "no connection to %s came free within the timeout (%ld ms)", t->host,
                 t->timeout_ms);
    else
        snprintf(t->errbuf, sizeof t->errbuf, "curl refused the transfer");
    struct http_result res = {0, code, t->errbuf, -1, (double)(clock_mono_ms() - t->asked_ms) / 1000};
    end(t, &res);
}

/* Gives T to curl with what is left of its timeout: CURLE_OK, or
 * CURLE_OPERATION_TIMEDOUT when nothing is left, or CURLE_FAILED_INIT when
 * curl refuses it. */
static CURLcode launch(struct http *h, struct transfer *t)
{
    t->waited_ms = clock_mono_ms() - t->asked_ms;
    if (t->timeout_ms > 0 && t->waited_ms > 0) {
        long left = t->timeout_ms - (long)t->waited_ms;
        if (left <= 0)
            return CURLE_OPERATION_TIMEDOUT;
        curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, left);
        curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, left);
    }
    if (curl_multi_add_handle(h->multi, t->easy) != CURLM_OK)
        return CURLE_FAILED_INIT;
    t->in_curl = true;
    return CURLE_OK;
}

/* A transfer to KEY left curl (or never reached it): the first that waits
 * for KEY takes its turn. One that cannot start ends, once the turn has
 * gone on to the next, so that its callback sees a consistent queue. */
static void pass_turn(struct http *h, const char *key)
{
    char k[HOSTQ_KEY_MAX];
    struct transfer *t, *failed = NULL;
    snprintf(k, sizeof k, "%s", key); /* KEY may be the ended transfer's */
    while ((t = hostq_next(h->hosts, k)) != NULL) {
        if (t->wait)
            event_free(t->wait);
        t->wait = NULL;
        if ((t->unsent = launch(h, t)) == CURLE_OK)
            break;
        t->up = failed;
        failed = t;
    }
    while ((t = failed) != NULL) {
        failed = t->up;
        end_unsent(t, t->unsent);
    }
}

/* The timeout of a transfer that still waits for its host ran out. */
static void on_wait_over(evutil_socket_t fd, short what, void *arg)
{
    struct transfer *t = arg;
    (void)fd;
    (void)what;
    hostq_cancel(t->h->hosts, t->host, t);
    event_free(t->wait);
    t->wait = NULL;
    end_unsent(t, CURLE_OPERATION_TIMEDOUT);
}

struct sock {
    struct http *h;
    struct event *ev;
};

static void check_done(struct http *h)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct transfer *t = NULL;
        CURL *easy = msg->easy_handle;
        struct http_result res = {0, msg->data.result, NULL, -1, 0};
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &res.status);
        curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &res.seconds);
        curl_off_t ra = -1;
        if (curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
            res.retry_after_s = (long)ra;
        res.error = res.code == CURLE_OK ? "" : (t->errbuf[0] ? t->errbuf : curl_easy_strerror(res.code));
        res.seconds += (double)t->waited_ms / 1000;
        curl_multi_remove_handle(h->multi, easy);
        pass_turn(h, t->host);
        end(t, &res);
    }
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    struct http *h = arg;
    int running;
    int action = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    curl_multi_socket_action(h->multi, fd, action, &running);
    check_done(h);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct http *h = arg;
    int running;
    (void)fd;
    (void)what;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct http *h = userp;
    (void)multi;
    if (timeout_ms < 0) {
        evtimer_del(h->timer);
        return 0;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(h->timer, &tv);
    return 0;
}

static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct http *h = userp;
    struct sock *sk = socketp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (sk) {
            event_free(sk->ev);
            free(sk);
            curl_multi_assign(h->multi, s, NULL);
        }
        return 0;
    }
    short kind = (short)((what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0) | EV_PERSIST);
    if (sk == NULL) {
        sk = util_xcalloc(1, sizeof *sk);
        sk->h = h;
        curl_multi_assign(h->multi, s, sk);
    } else {
        event_free(sk->ev);
    }
    sk->ev = event_new(h->base, s, kind, on_socket_event, h);
    event_add(sk->ev, NULL);
    return 0;
}

struct http *http_new(struct event_base *base, long max_total, long per_host)
{
    struct http *h = util_xcalloc(1, sizeof *h);
    TAILQ_INIT(&h->list);
    h->base = base;
    h->multi = curl_multi_init();
    if (h->multi == NULL) {
        free(h);
        return NULL;
    }
    h->timer = evtimer_new(base, on_timer, h);
    h->hosts = hostq_new((size_t)per_host);
    pool_init(&h->web, (size_t)max_total, false);
    pool_init(&h->mail, (size_t)max_total, true);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max_total);
    curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, per_host);
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, max_total);
    return h;
}

static void set_options(CURL *e, struct transfer *t, const char *url, const char *method, long timeout_ms)
{
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body); /* not copied: lives in T */
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(t->body));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    /* A transfer that waited for its host has less left (launch). */
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
}

/* Gives T (to URL) to curl when its host has a connection free, else
 * makes it wait, its timeout running; either way T joins the list of
 * transfers. Returns 0, or -1 when T could not start (T is then freed). */
static int start(struct http *h, struct transfer *t, const char *url)
{
    hostq_key(url, t->host);
    t->asked_ms = clock_mono_ms();
    if (hostq_admit(h->hosts, t->host, t)) {
        if (launch(h, t) != CURLE_OK) {
            pass_turn(h, t->host);
            transfer_free(t);
            return -1;
        }
    } else if (t->timeout_ms > 0) {
        struct timeval tv = {t->timeout_ms / 1000, (t->timeout_ms % 1000) * 1000};
        t->wait = evtimer_new(h->base, on_wait_over, t);
        if (t->wait == NULL || evtimer_add(t->wait, &tv) != 0) {
            hostq_cancel(h->hosts, t->host, t);
            if (t->wait)
                event_free(t->wait);
            transfer_free(t);
            return -1;
        }
    }
    h->inflight++;
    TAILQ_INSERT_HEAD(&h->list, t, link);
    return 0;
}

static size_t read_body(char *buf, size_t size, size_t n, void *userdata)
{
    struct transfer *t = userdata;
    size_t left = strlen(t->body) - t->sent, want = size * n;
    size_t take = left < want ? left : want;
    memcpy(buf, t->body + t->sent, take);
    t->sent += take;
    return take;
}

int http_send_mail(struct http *h, const struct http_mail *m, http_done_fn *done, void *data)
{
    CURL *e = mail_get(h);
    if (e == NULL)
        return -1;
    char from[300], to[300];
    struct transfer *t = util_xcalloc(1, sizeof *t);
    *t = (struct transfer){
        .h = h, .easy = e, .pool = &h->mail, .body = util_xstrdup(m->message), .done = done, .data = data};
    snprintf(from, sizeof from, "<%s>", m->from);
    snprintf(to, sizeof to, "<%s>", m->to);
    t->headers = curl_slist_append(NULL, to); /* MAIL_RCPT is not copied: lives in T */
    curl_easy_setopt(e, CURLOPT_URL, m->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, t->headers);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(e, CURLOPT_READDATA, t);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)strlen(t->body));
    curl_easy_setopt(e, CURLOPT_USE_SSL, m->use_ssl);
    if (m->user && m->user[0]) {
        t->user = util_xstrdup(m->user);
        t->password = util_xstrdup(m->password ? m->password : "");
        curl_easy_setopt(e, CURLOPT_USERNAME, t->user);
        curl_easy_setopt(e, CURLOPT_PASSWORD, t->password);
    }
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, m->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, m->timeout_ms);
    t->timeout_ms = m->timeout_ms;
    return start(h, t, m->url);
}

int http_request(struct http *h, const char *url, const char *method, struct curl_slist *headers, const char *body,
                 long timeout_ms, http_done_fn *done, void *data)
{
    CURL *e = web_get(h);
    if (e == NULL) {
        curl_slist_free_all(headers);
        return -1;
    }
    struct transfer *t = util_xcalloc(1, sizeof *t);
    *t = (struct transfer){
        .h = h, .easy = e, .pool = &h->web, .headers = headers, .body = util_xstrdup(body), .done = done, .data = data};
    set_options(e, t, url, method, timeout_ms);
    t->timeout_ms = timeout_ms;
    return start(h, t, url);
}

void http_free(struct http *h)
{
    if (h == NULL)
        return;
    while (!TAILQ_EMPTY(&h->list)) {
        struct transfer *t = TAILQ_FIRST(&h->list);
        unlink_transfer(t);
        if (t->wait)
            event_free(t->wait);
        if (t->in_curl)
            curl_multi_remove_handle(h->multi, t->easy);
        transfer_free(t);
    }
    hostq_free(h->hosts);
    pool_free(&h->web);
    pool_free(&h->mail);
    curl_multi_cleanup(h->multi);
    event_free(h->timer);
    free(h);
}
