/* oneshot.c — a few commands on a short-lived loop (see oneshot.h). */
#include "oneshot.h"
#include "rconn.h"
#include "util.h"

#include <event2/event.h>
#include <stdlib.h>

struct oneshot;

/* One command's answer: which of them it is. */
struct oneshot_req {
    struct oneshot *o;
    size_t i;
};

struct oneshot {
    struct event_base *base;
    struct cmd *c;
    size_t n, answered;
    struct oneshot_req *req; /* one a command */
    bool *done;              /* one a command: answered */
    bool sent, fail_fast;
    oneshot_each_fn *fn;
    void *data;
};

static void answer(struct oneshot *o, size_t i, const redisReply *reply)
{
    if (o->done[i])
        return;
    o->done[i] = true;
    o->fn(reply, i, o->data);
    if (++o->answered == o->n)
        event_base_loopbreak(o->base);
}

/* What is still unanswered gets NULL. */
static void answer_rest(struct oneshot *o)
{
    for (size_t i = 0; i < o->n; i++)
        answer(o, i, NULL);
}

static void on_reply(redisAsyncContext *ac, void *r, void *priv)
{
    struct oneshot_req *q = priv;
    (void)ac;
    answer(q->o, q->i, r);
}

static void on_state(struct rconn *rc, bool up, void *data)
{
    struct oneshot *o = data;
    if (!up) {
        if (o->fail_fast && !o->sent)
            answer_rest(o);
        return;
    }
    if (o->sent)
        return;
    o->sent = true;
    for (size_t i = 0; i < o->n; i++)
        if (cmd_send(&o->c[i], rc, on_reply, &o->req[i]) != 0)
            answer(o, i, NULL);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    answer_rest(arg);
}

void oneshot_run_each(const struct config *cfg, const char *name, struct cmd *c, size_t n, int deadline_s,
                      bool fail_fast, oneshot_each_fn *fn, void *data)
{
    struct oneshot o = {.c = c, .n = n, .fail_fast = fail_fast, .fn = fn, .data = data};
    o.req = util_xcalloc(n, sizeof *o.req);
    o.done = util_xcalloc(n, sizeof *o.done);
    for (size_t i = 0; i < n; i++)
        o.req[i] = (struct oneshot_req){&o, i};
    o.base = event_base_new();
    struct rconn *rc =
        o.base ? rconn_open(o.base, cfg->redis_url, cfg->redis_cluster_nodes, cfg->redis_password, name, on_state, &o)
               : NULL;
    struct event *deadline = o.base ? evtimer_new(o.base, on_deadline, &o) : NULL;
    struct timeval tv = {deadline_s, 0};
    if (rc && deadline && evtimer_add(deadline, &tv) == 0)
        event_base_dispatch(o.base);
    rconn_free(rc); /* a reply still pending comes back NULL: answered already, or now */
    answer_rest(&o);
    if (deadline)
        event_free(deadline);
    if (o.base)
        event_base_free(o.base);
    free(o.req);
    free(o.done);
}

/* oneshot_run's one answer, passed on. */
struct one {
    oneshot_reply_fn *fn;
    void *data;
};

static void on_one(const redisReply *reply, size_t i, void *data)
{
    const struct one *one = data;
    (void)i;
    one->fn(reply, one->data);
}

void oneshot_run(const struct config *cfg, const char *name, struct cmd *c, int deadline_s, bool fail_fast,
                 oneshot_reply_fn *fn, void *data)
{
    struct one one = {fn, data};
    oneshot_run_each(cfg, name, c, 1, deadline_s, fail_fast, on_one, &one);
}
