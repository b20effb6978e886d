/* redrive.c — dead deliveries back into the actions stream, page by page
 * (one script call each, so Redis is never held long), on a short-lived
 * loop with the daemon's own Redis connection code and a deadline per page.
 * The running daemons send them as any delivery, retries and all. */
#include "redrive.h"
#include "clock.h"
#include "cmd.h"
#include "keys.h"
#include "rconn.h"
#include "scripts.h"

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define REDRIVE_PAGE 200
#define REDRIVE_DEADLINE_S 10

struct redrive {
    struct event_base *base;
    struct event *deadline;
    struct rconn *rc;
    struct keys keys;
    const struct redrive_opts *o;
    char from[64]; /* the next page starts here */
    struct cmd call;
    long moved;
    bool started;
    int rc_exit;
};

static void send_page(struct redrive *r);

static const char *str(const redisReply *e)
{
    return e->type == REDIS_REPLY_STRING ? e->str : "";
}

static void print_moved(const struct redrive *r, const redisReply *m)
{
    if (m->type != REDIS_REPLY_ARRAY || m->elements != 6)
        return;
    printf("%s %s trigger=%s kind=%s webhook-id=%s last-status=%s last-error=\"%s\"\n",
           r->o->dry_run ? "would move" : "moved", str(m->element[0]), str(m->element[1]), str(m->element[2]),
           str(m->element[3]), str(m->element[4]), str(m->element[5]));
}

static void on_page(redisAsyncContext *ac, void *p, void *priv)
{
    struct redrive *r = priv;
    redisReply *reply = p;
    (void)ac;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[0]->type != REDIS_REPLY_STRING || reply->element[1]->type != REDIS_REPLY_ARRAY) {
        fprintf(stderr, "nudged: redrive failed: %s\n",
                reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no answer from Redis");
        event_base_loopbreak(r->base);
        return;
    }
    for (size_t i = 0; i < reply->element[1]->elements; i++, r->moved++)
        print_moved(r, reply->element[1]->element[i]);
    if (reply->element[0]->len == 0 || reply->element[0]->len >= sizeof r->from) {
        fprintf(stderr, "redrive: %ld deliveries %s\n", r->moved, r->o->dry_run ? "would move (dry run)" : "moved");
        r->rc_exit = 0;
        event_base_loopbreak(r->base);
        return;
    }
    memcpy(r->from, reply->element[0]->str, reply->element[0]->len + 1);
    send_page(r);
}

static void send_page(struct redrive *r)
{
    struct timeval tv = {REDRIVE_DEADLINE_S, 0};
    scripts_begin_eval(&r->call, SCRIPT_REDRIVE, 2);
    cmd_adds(&r->call, r->keys.dead);
    cmd_adds(&r->call, r->keys.actions);
    cmd_adds(&r->call, r->from);
    cmd_adds(&r->call, r->o->trigger ? r->o->trigger : "");
    cmd_adds(&r->call, r->o->dry_run ? "1" : "0");
    cmd_addi(&r->call, REDRIVE_PAGE);
    if (cmd_send(&r->call, r->rc, on_page, r) != 0) {
        fprintf(stderr, "nudged: redrive: the connection to Redis was lost\n");
        event_base_loopbreak(r->base);
        return;
    }
    evtimer_add(r->deadline, &tv);
}

static void on_state(struct rconn *rc, bool up, void *data)
{
    struct redrive *r = data;
    (void)rc;
    if (up && !r->started) {
        r->started = true;
        send_page(r);
    }
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct redrive *r = arg;
    (void)fd;
    (void)what;
    fprintf(stderr, "nudged: no answer from Redis within %d s; %ld deliveries moved so far\n", REDRIVE_DEADLINE_S,
            r->moved);
    event_base_loopbreak(r->base);
}

int redrive_run(const struct config *cfg, const struct redrive_opts *o)
{
    struct redrive r = {.o = o, .rc_exit = 3};
    struct timeval tv = {REDRIVE_DEADLINE_S, 0};
    if (o->since_ms > 0)
        snprintf(r.from, sizeof r.from, "%" PRId64 "-0", clock_now_ms() - o->since_ms);
    else
        snprintf(r.from, sizeof r.from, "-");
    r.base = event_base_new();
    if (r.base == NULL)
        return 3;
    keys_init(&r.keys, cfg);
    cmd_init(&r.call);
    r.deadline = evtimer_new(r.base, on_deadline, &r);
    r.rc = rconn_open(r.base, cfg->redis_url, cfg->redis_cluster_nodes, cfg->redis_password, "redrive", on_state, &r);
    if (r.rc && r.deadline && evtimer_add(r.deadline, &tv) == 0)
        event_base_dispatch(r.base);
    rconn_free(r.rc);
    if (r.deadline)
        event_free(r.deadline);
    cmd_free(&r.call);
    keys_free(&r.keys);
    event_base_free(r.base);
    return r.rc_exit;
}
