/* admin.h — the admin listener (SPEC 7) on the daemon's loop: GET /healthz,
 * GET /metrics, POST /v1/reload, with an optional bearer token. What each
 * route does is the daemon's, through admin_ops. */
#ifndef NUDGED_ADMIN_H
#define NUDGED_ADMIN_H

#include <event2/event.h>
#include <stdbool.h>

#include "errlist.h"
#include "util.h"

struct admin;

struct admin_ops {
    /* Reloads the triggers; 0, or -1 with every problem in ERRS. */
    int (*reload)(void *data, struct errlist *errs);
    /* True when nudged can do its job (Redis up, set up); REASON for false. */
    bool (*healthy)(void *data, const char **reason);
    /* Appends the Prometheus text of every metric to OUT. */
    void (*metrics)(void *data, struct buf *out);
};

/* Listens on LISTEN ("host:port"); TOKEN (NULL or "": none) is required as
 * "Authorization: Bearer TOKEN". Returns NULL when it cannot bind. */
struct admin *admin_new(struct event_base *base, const char *listen, const char *token, const struct admin_ops *ops,
                        void *data);
void admin_free(struct admin *a);

#endif
