/* redrive.c — dead deliveries back into their shards' outboxes, page by
 * page (an XRANGE of 200, then one script call a delivery, so Redis is
 * never held long), on a short-lived loop with the daemon's own Redis
 * connection code and a deadline per page. The running daemons send them
 * as any delivery, retries and all. */
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
    size_t left; /* the page's answers still due */
    bool started, failed, last_page;
    int rc_exit;
};

static void send_page(struct redrive *r);

static const char *str(const redisReply *e)
{
    return e->type == REDIS_REPLY_STRING ? e->str : "";
}

static void print_moved(const char *what, const redisReply *const *m)
{
    printf("%s %s trigger=%s kind=%s webhook-id=%s last-status=%s last-error=\"%s\"\n", what, str(m[0]), str(m[1]),
           str(m[2]), str(m[3]), str(m[4]), str(m[5]));
}

static void fail(struct redrive *r, const redisReply *reply)
{
    fprintf(stderr, "nudged: redrive failed: %s\n",
            reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no answer from Redis");
    r->failed = true;
    event_base_loopbreak(r->base);
}

/* The page's last answer came back: the next page, or the end. */
static void page_step(struct redrive *r)
{
    if (--r->left > 0 || r->failed)
        return;
    if (!r->last_page) {
        send_page(r);
        return;
    }
    fprintf(stderr, "redrive: %ld deliveries %s\n", r->moved, r->o->dry_run ? "would move (dry run)" : "moved");
    r->rc_exit = 0;
    event_base_loopbreak(r->base);
}

static void on_moved(redisAsyncContext *ac, void *p, void *priv)
{
    struct redrive *r = priv;
    redisReply *reply = p;
    (void)ac;
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        fail(r, reply);
        return;
    }
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 6) { /* else gone: another redrive took it */
        print_moved("moved", (const redisReply *const *)reply->element);
        r->moved++;
    }
    page_step(r);
}

/* The field NAME of a dead entry's FIELDS (nil when it has none). */
static const redisReply *find(const redisReply *fields, const char *name)
{
    static const redisReply none = {.type = REDIS_REPLY_NIL};
    for (size_t i = 0; i + 1 < fields->elements; i += 2)
        if (fields->element[i]->type == REDIS_REPLY_STRING && strcmp(fields->element[i]->str, name) == 0)
            return fields->element[i + 1];
    return &none;
}

/* Dead entry E, when of the trigger asked for: printed (dry run), or moved
 * to the outbox of its customer's shard. */
static void redrive_entry(struct redrive *r, const redisReply *e)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING ||
        e->element[1]->type != REDIS_REPLY_ARRAY)
        return;
    const redisReply *f = e->element[1];
    if (r->o->trigger && strcmp(str(find(f, "trigger")), r->o->trigger) != 0)
        return;
    if (r->o->dry_run) {
        const redisReply *m[] = {e->element[0], find(f, "trigger"), find(f, "kind"),
                                 find(f, "d"),  find(f, "status"),  find(f, "error")};
        print_moved("would move", m);
        r->moved++;
        return;
    }
    scripts_begin_eval(&r->call, SCRIPT_REDRIVE, 2);
    cmd_adds(&r->call, r->keys.dead);
    cmd_adds(&r->call, r->keys.actions[keys_shard(&r->keys, str(find(f, "customer")))]);
    cmd_adds(&r->call, e->element[0]->str);
    if (cmd_send(&r->call, r->rc, on_moved, r) == 0)
        r->left++;
    else
        fail(r, NULL);
}

static void on_page(redisAsyncContext *ac, void *p, void *priv)
{
    struct redrive *r = priv;
    redisReply *reply = p;
    (void)ac;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        fail(r, reply);
        return;
    }
    r->left = 1; /* held until every move is sent */
    r->last_page = reply->elements < REDRIVE_PAGE;
    for (size_t i = 0; i < reply->elements && !r->failed; i++)
        redrive_entry(r, reply->element[i]);
    const redisReply *last = reply->elements ? reply->element[reply->elements - 1] : NULL;
    if (!r->last_page && last->type == REDIS_REPLY_ARRAY && last->elements > 0 &&
        last->element[0]->type == REDIS_REPLY_STRING && last->element[0]->len + 2 <= sizeof r->from)
        snprintf(r->from, sizeof r->from, "(%s", last->element[0]->str);
    else
        r->last_page = true;
    page_step(r);
}

static void send_page(struct redrive *r)
{
    struct timeval tv = {REDRIVE_DEADLINE_S, 0};
    if (rconn_sendf(r->rc, on_page, r, "XRANGE %s %s + COUNT %d", r->keys.dead, r->from, REDRIVE_PAGE) != 0) {
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
