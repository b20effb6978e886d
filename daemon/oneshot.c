/* oneshot.c — one command on a short-lived loop (see oneshot.h). */
#include "oneshot.h"
#include "rconn.h"

#include <event2/event.h>

struct oneshot {
    struct event_base *base;
    struct cmd *c;
    bool sent, answered, fail_fast;
    oneshot_reply_fn *fn;
    void *data;
};

static void answer(struct oneshot *o, const redisReply *reply)
{
    if (o->answered)
        return;
    o->answered = true;
    o->fn(reply, o->data);
    event_base_loopbreak(o->base);
}

static void on_reply(redisAsyncContext *ac, void *r, void *priv)
{
    (void)ac;
    answer(priv, r);
}

static void on_state(struct rconn *rc, bool up, void *data)
{
    struct oneshot *o = data;
    if (!up) {
        if (o->fail_fast && !o->sent)
            answer(o, NULL);
        return;
    }
    if (!o->sent)
        o->sent = cmd_send(o->c, rc, on_reply, o) == 0;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    answer(arg, NULL);
}

void oneshot_run(const struct config *cfg, const char *name, struct cmd *c, int deadline_s, bool fail_fast,
                 oneshot_reply_fn *fn, void *data)
{
    struct oneshot o = {.c = c, .fail_fast = fail_fast, .fn = fn, .data = data};
    o.base = event_base_new();
    struct rconn *rc =
        o.base ? rconn_open(o.base, cfg->redis_url, cfg->redis_cluster_nodes, cfg->redis_password, name, on_state, &o)
               : NULL;
    struct event *deadline = o.base ? evtimer_new(o.base, on_deadline, &o) : NULL;
    struct timeval tv = {deadline_s, 0};
    if (rc && deadline && evtimer_add(deadline, &tv) == 0)
        event_base_dispatch(o.base);
    rconn_free(rc); /* a reply still pending comes back NULL: answered already, or now */
    if (!o.answered)
        fn(NULL, data);
    if (deadline)
        event_free(deadline);
    if (o.base)
        event_base_free(o.base);
}
