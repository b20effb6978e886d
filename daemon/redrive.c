/* redrive.c — dead deliveries back into their shards' outboxes, page by
 * page (an XRANGE of 200, then a chain a delivery, so Redis is never held
 * long), on a short-lived loop with the daemon's own Redis connection
 * code and a deadline per page. The running daemons send them as any
 * delivery, retries and all.
 *
 * A redrive first claims a dead entry (SET NX of its claim key, in the
 * dead stream's slot, for a minute), so two redrives at once move each
 * once; the claimant adds it to its outbox, then deletes it and the claim
 * from the dead stream's slot (rchain.h: on a Redis Cluster the outbox is
 * in another slot). A redrive that dies after the add and before the
 * delete leaves the delivery in both: the next redrive sends it again,
 * with the same webhook-id, which a receiver that de-duplicates by it
 * (Standard Webhooks) takes once. One that dies before the add leaves it
 * dead, claimed for a minute. */
#include "redrive.h"
#include "clock.h"
#include "cmd.h"
#include "keys.h"
#include "outbox.h"
#include "rchain.h"
#include "rconn.h"
#include "util.h"

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The line that says entry M (id, trigger, kind, d, status, error) was
 * moved (WHAT), to free. */
static char *moved_line(const char *what, const redisReply *const *m)
{
    char *line = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&line, &len);
    if (f == NULL)
        abort();
    fprintf(f, "%s %s trigger=%s kind=%s webhook-id=%s last-status=%s last-error=\"%s\"\n", what, str(m[0]), str(m[1]),
            str(m[2]), str(m[3]), str(m[4]), str(m[5]));
    fclose(f);
    return line;
}

/* The outbox entry's field "delivery" for dead entry FIELDS: its fields
 * as one JSON object (its "d", the same webhook-id; attempt 1, left out
 * as the default; no status or error), to free. */
static char *delivery_text(const redisReply *fields)
{
    struct outbox_record o = {0};
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        const redisReply *k = fields->element[i], *v = fields->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING || strcmp(k->str, "status") == 0 ||
            strcmp(k->str, "error") == 0 || strcmp(k->str, "attempt") == 0)
            continue;
        outbox_put(&o, k->str, v->str);
    }
    return outbox_json(&o);
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

/* A delivery being moved: what is printed once it is, its outbox and
 * entry, its claim. */
struct moving {
    struct redrive *r;
    char *line, *delivery, *claim;
    const char *outbox;
    char id[64];
};

static void moving_free(struct moving *m)
{
    free(m->line);
    free(m->delivery);
    free(m->claim);
    free(m);
}

/* An answer that is none or an error fails the redrive (M freed). */
static bool moving_failed(struct moving *m, const redisReply *reply)
{
    if (reply && reply->type != REDIS_REPLY_ERROR)
        return false;
    fail(m->r, reply);
    moving_free(m);
    return true;
}

static void on_moved(redisAsyncContext *ac, void *p, void *priv)
{
    struct moving *m = priv;
    (void)ac;
    if (moving_failed(m, p))
        return;
    fputs(m->line, stdout);
    m->r->moved++;
    page_step(m->r);
    moving_free(m);
}

/* The claim came back: taken, the move; else another redrive has it. */
static void on_claimed(redisAsyncContext *ac, void *p, void *priv)
{
    struct moving *m = priv;
    struct redrive *r = m->r;
    redisReply *reply = p;
    (void)ac;
    if (moving_failed(m, reply))
        return;
    if (reply->type != REDIS_REPLY_STATUS) { /* nil: claimed by another */
        moving_free(m);
        page_step(r);
        return;
    }
    struct rchain *ch = rchain_new(r->rc, on_moved, m);
    const char *add[] = {"XADD", m->outbox, "*", OUTBOX_FIELD, m->delivery};
    const char *del[] = {"XDEL", r->keys.dead, m->id}, *unclaim[] = {"DEL", m->claim};
    rchain_addv(ch, add, sizeof add / sizeof *add);
    rchain_addv(ch, del, sizeof del / sizeof *del);
    rchain_addv(ch, unclaim, sizeof unclaim / sizeof *unclaim);
    if (rchain_send(ch) != 0) {
        moving_free(m);
        fail(r, NULL);
    }
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
    const redisReply *m[] = {e->element[0], find(f, "trigger"), find(f, "kind"),
                             find(f, "d"),  find(f, "status"),  find(f, "error")};
    if (r->o->dry_run) {
        char *line = moved_line("would move", m);
        fputs(line, stdout);
        free(line);
        r->moved++;
        return;
    }
    struct moving *mv = util_xcalloc(1, sizeof *mv);
    *mv = (struct moving){r,
                          moved_line("moved", m),
                          delivery_text(f),
                          NULL,
                          r->keys.actions[keys_shard(&r->keys, str(find(f, "customer")))],
                          ""};
    snprintf(mv->id, sizeof mv->id, "%s", e->element[0]->str);
    if (asprintf(&mv->claim, "%s%s", r->keys.redriving, mv->id) < 0)
        abort();
    if (rconn_sendf(r->rc, on_claimed, mv, "SET %s 1 NX PX 60000", mv->claim) == 0) {
        r->left++;
    } else {
        moving_free(mv);
        fail(r, NULL);
    }
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
