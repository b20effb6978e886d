/* listener.h — an evhttp server on the daemon's loop with the limits every
 * listener of nudged needs against hostile or careless clients: a cap on
 * header and body size, an idle timeout, a cap on open connections, and
 * accept that backs off when the process runs out of file descriptors
 * instead of spinning. Shared by the collector and the admin listener. */
#ifndef NUDGED_LISTENER_H
#define NUDGED_LISTENER_H

#include <event2/event.h>
#include <event2/http.h>
#include <stddef.h>

struct listener;

struct listener_limits {
    size_t max_headers; /* bytes of the request line and headers */
    size_t max_body;    /* bytes of the body as sent (evhttp answers 413 past it) */
    int timeout_s;      /* a connection idle this long (reading or writing) is closed */
    int methods;        /* EVHTTP_REQ_* allowed; others get 405 from evhttp */
    int max_conns;      /* open connections at most; more wait in the kernel's backlog */
    const char *name;   /* in logs: "collector", "admin" */
};

/* Binds LISTEN ("host:port") and calls CB(req, ARG) for each request.
 * Returns NULL (and logs why) when LISTEN is malformed or cannot be bound. */
struct listener *listener_new(struct event_base *base, const char *listen, const struct listener_limits *lim,
                              void (*cb)(struct evhttp_request *, void *), void *arg);

/* The port bound (useful with port 0). */
int listener_port(const struct listener *l);

void listener_free(struct listener *l);

#endif
