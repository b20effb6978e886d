/* admin.h — the admin listener (SPEC 7) on the daemon's loop: GET /healthz,
 * GET /metrics, POST /v1/reload, GET and DELETE /v1/customers/ID, GET
 * /v1/triggers, with an optional bearer token. What each
 * route does is the daemon's, through admin_ops. */
#ifndef NUDGED_ADMIN_H
#define NUDGED_ADMIN_H

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>

#include "errlist.h"
#include "util.h"

struct admin;
/* A request waiting for Redis; answered once with admin_reply. */
struct admin_pending;

struct admin_ops {
    /* Reloads the triggers; 0, or -1 with every problem in ERRS. */
    int (*reload)(void *data, struct errlist *errs);
    /* True when nudged can do its job (Redis up, set up); REASON for false. */
    bool (*healthy)(void *data, const char **reason);
    /* Appends the Prometheus text of every metric to OUT. */
    void (*metrics)(void *data, struct buf *out);
    /* GET (ERASE false) or DELETE customer ID; answers P later with
     * admin_reply, exactly once. */
    void (*customer)(void *data, bool erase, const char *id, struct admin_pending *p);
    /* GET /v1/triggers: the report of every trigger (report.h); answers P
     * later with admin_reply, exactly once. */
    void (*triggers)(void *data, struct admin_pending *p);
};

/* Answers P with CODE and BODY (JSON, reference taken) and frees P. When
 * the client has gone meanwhile, only frees P. */
void admin_reply(struct admin_pending *p, int code, json_t *body);

/* Listens on LISTEN ("host:port"); TOKEN (NULL or "": none) is required as
 * "Authorization: Bearer TOKEN". Returns NULL when it cannot bind. */
struct admin *admin_new(struct event_base *base, const char *listen, const char *token, const struct admin_ops *ops,
                        void *data);
void admin_free(struct admin *a);

#endif
