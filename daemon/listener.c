/* listener.c — evhttp with limits (see listener.h). When accept fails for
 * want of descriptors, the listening socket stays readable and libevent
 * would retry at once, forever: the listener is paused for a second
 * instead, and logged once a pause. evhttp owns the listener and its user
 * data, so the pause is a one-shot timer that carries the listener itself.
 *
 * The cap on open connections: evhttp tells of each new connection (its
 * bufferevent hook) but not of one it closes, so the count goes up with
 * each accept and is set right by counting the process's sockets on the
 * listener's port (/proc/self/fd) whenever it reaches the cap. At the cap
 * the listener stops accepting, so new clients wait in the kernel's
 * backlog holding no descriptor of ours, and it is counted again every
 * 100 ms until one has closed. */
#include "listener.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define LISTENER_RECOUNT_MS 100

struct listener {
    struct evhttp *http;
    struct evconnlistener *lev; /* evhttp's */
    struct event *recount;      /* while at the cap */
    const char *name;
    int port;
    int open, max_conns; /* connections open (counted up between recounts), and the cap */
    bool paused;         /* at the cap: accepting stopped */
};

/* The connections open on L's port now: the process's TCP sockets bound to
 * it, less the listening one. */
static int count_open(const struct listener *l)
{
    DIR *dir = opendir("/proc/self/fd");
    int n = 0;
    struct dirent *e;
    while (dir && (e = readdir(dir)) != NULL) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = (int)strtol(e->d_name, NULL, 10), listening = 0;
        socklen_t ll = sizeof listening;
        if (e->d_name[0] == '.' || fd == dirfd(dir) || getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
            continue;
        int port = ss.ss_family == AF_INET    ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                   : ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                              : -1;
        if (port == l->port && getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ll) == 0 && !listening)
            n++;
    }
    if (dir)
        closedir(dir);
    return n;
}

static void on_recount(evutil_socket_t fd, short what, void *arg)
{
    struct listener *l = arg;
    struct timeval tv = {0, LISTENER_RECOUNT_MS * 1000};
    (void)fd;
    (void)what;
    if ((l->open = count_open(l)) < l->max_conns) {
        l->paused = false;
        evconnlistener_enable(l->lev);
    } else {
        evtimer_add(l->recount, &tv);
    }
}

/* A new connection (evhttp's bufferevent hook): counted; at the cap,
 * counted for real, and accepting stops if the cap holds. NULL: evhttp
 * makes the bufferevent as it always does. */
static struct bufferevent *on_new_conn(struct event_base *base, void *arg)
{
    struct listener *l = arg;
    struct timeval tv = {0, LISTENER_RECOUNT_MS * 1000};
    (void)base;
    if (++l->open < l->max_conns || (l->open = count_open(l)) < l->max_conns)
        return NULL;
    evconnlistener_disable(l->lev); /* again, should the EMFILE pause have ended meanwhile */
    if (!l->paused) {
        char n[24];
        snprintf(n, sizeof n, "%d", l->max_conns);
        log_warn("connection cap reached: new clients wait until one closes", "listener", l->name, "cap", n);
        l->paused = true;
        evtimer_add(l->recount, &tv);
    }
    return NULL;
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evconnlistener_enable(arg);
}

/* ARG is evhttp's, not ours: only LEV is known here. */
static void on_accept_error(struct evconnlistener *lev, void *arg)
{
    int err = EVUTIL_SOCKET_ERROR();
    (void)arg;
    if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
        return; /* a client that reset before accept: nothing to wait for */
    log_warn("cannot accept connections: out of file descriptors; the listener pauses for 1s", "error",
             evutil_socket_error_to_string(err));
    evconnlistener_disable(lev);
    struct timeval tv = {1, 0};
    if (event_base_once(evconnlistener_get_base(lev), -1, EV_TIMEOUT, on_resume, lev, &tv) != 0)
        evconnlistener_enable(lev);
}

static int split_listen(const char *listen, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(listen, ':');
    long long p;
    if (colon == NULL || colon == listen || (size_t)(colon - listen) >= hostlen || util_parse_int(colon + 1, &p) != 0 ||
        p < 0 || p > 65535)
        return -1;
    snprintf(host, hostlen, "%.*s", (int)(colon - listen), listen);
    *port = (int)p;
    return 0;
}

struct listener *listener_new(struct event_base *base, const char *listen, const struct listener_limits *lim,
                              void (*cb)(struct evhttp_request *, void *), void *arg)
{
    char host[256];
    int port;
    if (split_listen(listen, host, sizeof host, &port) != 0) {
        log_error("a listen address is host:port", "listener", lim->name, "listen", listen);
        return NULL;
    }
    struct listener *l = util_xcalloc(1, sizeof *l);
    l->http = evhttp_new(base);
    struct evhttp_bound_socket *bs = l->http ? evhttp_bind_socket_with_handle(l->http, host, (ev_uint16_t)port) : NULL;
    if (bs == NULL) {
        log_error("cannot listen", "listener", lim->name, "listen", listen, "error",
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        listener_free(l);
        return NULL;
    }
    l->lev = evhttp_bound_socket_get_listener(bs);
    l->name = lim->name;
    l->max_conns = lim->max_conns;
    if ((l->recount = evtimer_new(base, on_recount, l)) == NULL) {
        listener_free(l);
        return NULL;
    }
    evconnlistener_set_error_cb(l->lev, on_accept_error);
    evhttp_set_bevcb(l->http, on_new_conn, l);
    struct sockaddr_storage ss;
    ev_socklen_t sl = sizeof ss;
    if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) == 0)
        l->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    evhttp_set_max_headers_size(l->http, (ev_ssize_t)lim->max_headers);
    evhttp_set_max_body_size(l->http, (ev_ssize_t)lim->max_body);
    evhttp_set_timeout(l->http, lim->timeout_s);
    evhttp_set_allowed_methods(l->http, (ev_uint16_t)lim->methods);
    evhttp_set_gencb(l->http, cb, arg);
    return l;
}

int listener_port(const struct listener *l)
{
    return l->port;
}

void listener_free(struct listener *l)
{
    if (l == NULL)
        return;
    if (l->recount)
        event_free(l->recount);
    if (l->http)
        evhttp_free(l->http);
    free(l);
}
