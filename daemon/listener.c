/* listener.c — evhttp with limits (see listener.h). When accept fails for
 * want of descriptors, the listening socket stays readable and libevent
 * would retry at once, forever: the listener is paused for a second
 * instead, and logged once a pause. evhttp owns the listener and its user
 * data, so the pause is a one-shot timer that carries the listener itself. */
#include "listener.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct listener {
    struct evhttp *http;
    int port;
};

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
    evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(bs), on_accept_error);
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
    if (l->http)
        evhttp_free(l->http);
    free(l);
}
