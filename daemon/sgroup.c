/* sgroup.c — the upkeep of a consumer group on one stream (sgroup.h). */
#include "sgroup.h"
#include "cmd.h"
#include "log.h"
#include "outbox.h"
#include "rchain.h"
#include "util.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An entry being set aside: read first (sgroup_bury). */
struct bury {
    struct sgroup g;
    const char *to;
    bool delete;
    char id[64], why[128];
    sgroup_done_fn *done;
    void *data;
};

static void bury_end(struct bury *b)
{
    b->done(b->data);
    free(b);
}

static void on_buried(redisAsyncContext *ac, void *r, void *priv)
{
    struct bury *b = priv;
    redisReply *reply = r;
    (void)ac;
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
        log_warn("cannot set the entry aside now", "id", b->id, "error",
                 reply ? reply->str : "the connection was lost");
    bury_end(b);
}

/* Adds one field of the entry to the copy: a delivery's JSON as its own
 * fields; "error" and "id" are the copy's own. */
static void add_field(struct cmd *c, const redisReply *k, const redisReply *v)
{
    json_t *d = strcmp(k->str, OUTBOX_FIELD) == 0 ? json_loadb(v->str, v->len, 0, NULL) : NULL;
    if (json_is_object(d)) {
        const char *dk;
        json_t *dv;
        json_object_foreach(d, dk, dv)
        {
            if (strcmp(dk, "error") == 0 || strcmp(dk, "id") == 0)
                continue;
            char *text = json_is_string(dv) ? NULL : json_dumps(dv, JSON_ENCODE_ANY | JSON_COMPACT);
            cmd_addscopy(c, dk);
            cmd_addscopy(c, text ? text : json_string_value(dv));
            free(text);
        }
    } else if (strcmp(k->str, "error") != 0 && strcmp(k->str, "id") != 0) {
        cmd_addcopy(c, k->str, k->len);
        cmd_addcopy(c, v->str, v->len);
    }
    json_decref(d);
}

/* The entry came back ([[id, [field, value, ...]]]; empty when it is gone):
 * its copy, then the ack and the delete. */
static void on_bury_read(redisAsyncContext *ac, void *r, void *priv)
{
    struct bury *b = priv;
    redisReply *reply = r;
    (void)ac;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        log_warn("cannot set the entry aside now", "id", b->id, "error",
                 reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no answer");
        bury_end(b);
        return;
    }
    struct rchain *ch = rchain_new(b->g.conn, on_buried, b);
    struct cmd c;
    cmd_init(&c);
    const redisReply *e = reply->elements == 1 ? reply->element[0] : NULL;
    if (e && e->type == REDIS_REPLY_ARRAY && e->elements == 2 && e->element[1]->type == REDIS_REPLY_ARRAY) {
        const char *head[] = {"XADD", b->to, "MAXLEN", "~", "100000", "*"};
        cmd_addsv(&c, head, sizeof head / sizeof *head);
        const redisReply *f = e->element[1];
        for (size_t i = 0; i + 1 < f->elements; i += 2)
            if (f->element[i]->type == REDIS_REPLY_STRING && f->element[i + 1]->type == REDIS_REPLY_STRING)
                add_field(&c, f->element[i], f->element[i + 1]);
        const char *tail[] = {"error", b->why, "id", b->id};
        cmd_addsv(&c, tail, sizeof tail / sizeof *tail);
        rchain_add(ch, &c);
    }
    cmd_free(&c);
    const char *ack[] = {"XACK", b->g.stream, b->g.group, b->id}, *del[] = {"XDEL", b->g.stream, b->id};
    rchain_addv(ch, ack, sizeof ack / sizeof *ack);
    if (b->delete)
        rchain_addv(ch, del, sizeof del / sizeof *del);
    if (rchain_send(ch) != 0) {
        log_warn("cannot set the entry aside now", "id", b->id);
        bury_end(b);
    }
}

void sgroup_bury(const struct sgroup *g, const char *id, long long count, const char *to, bool delete,
                 sgroup_done_fn *done, void *data)
{
    struct bury *b = util_xcalloc(1, sizeof *b);
    *b = (struct bury){.g = *g, .to = to, .delete = delete, .done = done, .data = data};
    snprintf(b->id, sizeof b->id, "%s", id);
    snprintf(b->why, sizeof b->why, "delivered %lld times and never completed (it may crash nudged); set aside", count);
    log_warn("entry set aside", "stream", g->stream, "id", id, "to", to, "error", b->why);
    if (rconn_sendf(g->conn, on_bury_read, b, "XRANGE %s %s %s", g->stream, id, id) != 0) {
        log_warn("cannot set the entry aside now", "id", id);
        bury_end(b);
    }
}

/* Entries being set aside, then THEN(DATA). */
struct burying {
    unsigned left;
    sgroup_done_fn *then;
    void *data;
};

static void on_one_buried(void *data)
{
    struct burying *b = data;
    if (--b->left > 0)
        return;
    b->then(b->data);
    free(b);
}

void sgroup_bury_pending(const struct sgroup *g, const redisReply *reply, const char *to, bool delete,
                         sgroup_done_fn *then, void *data)
{
    struct burying *b = util_xcalloc(1, sizeof *b);
    *b = (struct burying){1, then, data}; /* held until every bury is sent */
    for (size_t k = 0; reply && reply->type == REDIS_REPLY_ARRAY && k < reply->elements; k++) {
        const redisReply *e = reply->element[k];
        if (e->type == REDIS_REPLY_ARRAY && e->elements == 4 && e->element[3]->integer >= SGROUP_MAX_DELIVERIES) {
            b->left++;
            sgroup_bury(g, e->element[0]->str, e->element[3]->integer, to, delete, on_one_buried, b);
        }
    }
    on_one_buried(b);
}

/* A take-over in flight (sgroup_take_over). */
struct takeover {
    struct sgroup g;
    const char *to;
    bool delete;
    sgroup_still_fn *still;
    sgroup_done_fn *done;
    void *data;
};

static void takeover_end(struct takeover *t)
{
    t->done(t->data);
    free(t);
}

static void send_autoclaims(struct takeover *t, const char *cursor);

static void on_autoclaimed(redisAsyncContext *ac, void *r, void *priv)
{
    struct takeover *t = priv;
    redisReply *reply = r;
    (void)ac;
    bool current = reply && t->still(t->data);
    if (current &&
        (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 || reply->element[0]->type != REDIS_REPLY_STRING)) {
        log_warn("taking over a stream's pending entries failed; they are claimed when idle", "stream", t->g.stream,
                 "error", reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        current = false;
    }
    if (current && strcmp(reply->element[0]->str, "0-0") != 0) {
        send_autoclaims(t, reply->element[0]->str);
        return;
    }
    takeover_end(t);
}

static void send_autoclaims(struct takeover *t, const char *cursor)
{
    const char *argv[] = {"XAUTOCLAIM", t->g.stream, t->g.group, t->g.consumer, "0", cursor, "COUNT", "1000", "JUSTID"};
    if (rconn_send(t->g.conn, on_autoclaimed, t, 9, argv, NULL) != 0) {
        log_warn("cannot take over a stream's pending entries now; they are claimed when idle", "stream", t->g.stream);
        takeover_end(t);
    }
}

static void autoclaim_go(void *data)
{
    send_autoclaims(data, "0-0");
}

static void on_takeover_pending(redisAsyncContext *ac, void *r, void *priv)
{
    struct takeover *t = priv;
    (void)ac;
    sgroup_bury_pending(&t->g, r, t->to, t->delete, autoclaim_go, t);
}

void sgroup_take_over(const struct sgroup *g, const char *to, bool delete, sgroup_still_fn *still, sgroup_done_fn *done,
                      void *data)
{
    struct takeover *t = util_xcalloc(1, sizeof *t);
    *t = (struct takeover){*g, to, delete, still, done, data};
    const char *argv[] = {"XPENDING", g->stream, g->group, "IDLE", "0", "-", "+", "1000"};
    if (rconn_send(g->conn, on_takeover_pending, t, 8, argv, NULL) != 0)
        send_autoclaims(t, "0-0");
}

/* A prune in flight: the group's consumers (XINFO CONSUMERS) come back. */
struct prune {
    struct sgroup g;
    int64_t idle_ms;
};

static long long field_int(const redisReply *info, const char *name)
{
    for (size_t i = 0; i + 1 < info->elements; i += 2)
        if (info->element[i]->type == REDIS_REPLY_STRING && strcmp(info->element[i]->str, name) == 0)
            return info->element[i + 1]->integer;
    return -1;
}

static const char *field_str(const redisReply *info, const char *name)
{
    for (size_t i = 0; i + 1 < info->elements; i += 2)
        if (info->element[i]->type == REDIS_REPLY_STRING && strcmp(info->element[i]->str, name) == 0 &&
            info->element[i + 1]->type == REDIS_REPLY_STRING)
            return info->element[i + 1]->str;
    return NULL;
}

static void on_consumers(redisAsyncContext *ac, void *r, void *priv)
{
    struct prune *p = priv;
    redisReply *reply = r;
    (void)ac;
    for (size_t i = 0; reply && reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
        const redisReply *info = reply->element[i];
        const char *name = field_str(info, "name");
        if (name == NULL || strcmp(name, p->g.consumer) == 0 || field_int(info, "pending") != 0 ||
            field_int(info, "idle") < p->idle_ms)
            continue;
        log_info("removing an idle consumer with nothing pending", "stream", p->g.stream, "consumer", name);
        if (rconn_sendf(p->g.conn, rconn_ignore, NULL, "XGROUP DELCONSUMER %s %s %s", p->g.stream, p->g.group, name) !=
            0)
            break;
    }
    free(p);
}

void sgroup_prune(const struct sgroup *g, int64_t idle_ms)
{
    struct prune *p = util_xmalloc(sizeof *p);
    *p = (struct prune){*g, idle_ms};
    if (rconn_sendf(g->conn, on_consumers, p, "XINFO CONSUMERS %s %s", g->stream, g->group) != 0)
        free(p);
}

static void on_trimmed(redisAsyncContext *ac, void *r, void *priv)
{
    const char *stream = priv;
    redisReply *reply = r;
    (void)ac;
    if (reply && reply->type == REDIS_REPLY_ERROR)
        log_warn("trimming a stream failed", "stream", stream, "error", reply->str);
}

void sgroup_trim(const struct sgroup *g, int64_t keep_ms, int64_t now_ms)
{
    struct cmd c;
    cmd_init(&c);
    scripts_begin(&c, g->scripts, SCRIPT_TRIM, 1);
    cmd_adds(&c, g->stream);
    cmd_adds(&c, g->group);
    if (keep_ms > 0)
        cmd_addf(&c, "%" PRId64 "-0", now_ms - keep_ms);
    if (cmd_send(&c, g->conn, on_trimmed, (void *)g->stream) != 0)
        log_debug("cannot trim a stream now", "stream", g->stream);
    cmd_free(&c);
}
