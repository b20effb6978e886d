/* sreader.c — a consumer-group reader for one stream (see sreader.h). */
#include "sreader.h"
#include "cmd.h"
#include "log.h"
#include "util.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sreader {
    struct rconn *reader, *conn;
    struct sreader_opts o;
    sreader_room_fn *room;
    sreader_batch_fn *batch;
    void *data;
    char cursor[64]; /* "0"-style id while draining pending, ">" after */
    bool reading, in_batch, claiming, stopped, need_pending;
    bool read_pending;               /* the read in flight is of the pending list */
    unsigned long epoch, read_epoch; /* a reset during a read makes its cursor stale */
    char claim_cursor[64];
    int backoff_ms;
    struct event *backoff_timer;
};

static void on_backoff(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sreader_kick(arg);
}

struct sreader *sreader_new(struct event_base *base, struct rconn *reader, struct rconn *conn,
                            const struct sreader_opts *opts, sreader_room_fn *room, sreader_batch_fn *batch, void *data)
{
    struct sreader *s = util_xcalloc(1, sizeof *s);
    s->reader = reader;
    s->conn = conn;
    s->o = *opts;
    s->room = room;
    s->batch = batch;
    s->data = data;
    s->need_pending = true;
    snprintf(s->cursor, sizeof s->cursor, "0");
    snprintf(s->claim_cursor, sizeof s->claim_cursor, "0-0");
    s->backoff_timer = evtimer_new(base, on_backoff, s);
    return s;
}

static void on_group_created(redisAsyncContext *ac, void *r, void *priv)
{
    redisReply *reply = r;
    (void)ac;
    (void)priv;
    if (reply && reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "BUSYGROUP", 9) != 0)
        log_error("XGROUP CREATE failed", "error", reply->str);
}

/* Pending entries that were trimmed come back as [id, nil]: ack, skip. */
static size_t ack_deleted(struct sreader *s, const redisReply *entries)
{
    size_t live = 0;
    for (size_t i = 0; i < entries->elements; i++) {
        const redisReply *e = entries->element[i];
        if (e->type == REDIS_REPLY_ARRAY && e->elements == 2 && e->element[1]->type == REDIS_REPLY_ARRAY) {
            live++;
            continue;
        }
        if (e->type == REDIS_REPLY_ARRAY && e->elements >= 1 && e->element[0]->type == REDIS_REPLY_STRING &&
            rconn_sendf(s->conn, rconn_ignore, NULL, "XACK %s %s %s", s->o.stream, s->o.group, e->element[0]->str) != 0)
            log_warn("cannot ack a deleted entry now", "stream", s->o.stream);
    }
    return live;
}

/* Builds the array of live entries only, borrowing the elements. */
static void deliver(struct sreader *s, const redisReply *entries)
{
    size_t live = ack_deleted(s, entries);
    const char *last = NULL;
    for (size_t i = 0; i < entries->elements; i++)
        if (entries->element[i]->type == REDIS_REPLY_ARRAY && entries->element[i]->elements >= 1)
            last = entries->element[i]->element[0]->str;
    if (s->read_pending && s->read_epoch == s->epoch && last)
        snprintf(s->cursor, sizeof s->cursor, "%s", last);
    if (live == 0) {
        s->in_batch = false;
        sreader_kick(s);
        return;
    }
    redisReply filtered = *entries;
    redisReply **el = util_xcalloc(live, sizeof *el);
    size_t n = 0;
    for (size_t i = 0; i < entries->elements; i++) {
        redisReply *e = entries->element[i];
        if (e->type == REDIS_REPLY_ARRAY && e->elements == 2 && e->element[1]->type == REDIS_REPLY_ARRAY)
            el[n++] = e;
    }
    filtered.element = el;
    filtered.elements = n;
    s->batch(&filtered, s->read_pending, s->data);
    free(el);
}

static void on_read(redisAsyncContext *ac, void *r, void *priv)
{
    struct sreader *s = priv;
    redisReply *reply = r;
    (void)ac;
    s->reading = false;
    if (reply == NULL) /* connection lost; the up callback resets and kicks */
        return;
    if (reply->type == REDIS_REPLY_ERROR) {
        log_warn("XREADGROUP failed", "stream", s->o.stream, "error", reply->str);
        if (strncmp(reply->str, "NOGROUP", 7) == 0 &&
            rconn_sendf(s->conn, on_group_created, NULL, "XGROUP CREATE %s %s 0 MKSTREAM", s->o.stream, s->o.group) !=
                0)
            log_warn("cannot recreate the group now", "stream", s->o.stream);
        sreader_done(s, false);
        return;
    }
    const redisReply *entries = NULL;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 && reply->element[0]->elements == 2)
        entries = reply->element[0]->element[1];
    if (entries == NULL || entries->elements == 0) {
        if (s->read_pending && s->read_epoch == s->epoch) { /* pending drained: now the new entries */
            s->need_pending = false;
            snprintf(s->cursor, sizeof s->cursor, ">");
        }
        sreader_kick(s);
        return;
    }
    s->in_batch = true;
    deliver(s, entries);
}

void sreader_kick(struct sreader *s)
{
    if (s->stopped || s->reading || s->in_batch || !rconn_up(s->reader) || !rconn_up(s->conn))
        return;
    if (evtimer_pending(s->backoff_timer, NULL))
        return;
    size_t room = s->room(s->data);
    if (room == 0)
        return;
    char count[24], block[24];
    snprintf(count, sizeof count, "%zu", room);
    snprintf(block, sizeof block, "%lld", (long long)s->o.block_ms);
    const char *argv[] = {"XREADGROUP", "GROUP", s->o.group, s->o.consumer, "COUNT",  count,
                          "BLOCK",      block,   "STREAMS",  s->o.stream,   s->cursor};
    if (rconn_send(s->reader, on_read, s, 11, argv, NULL) == 0) {
        s->reading = true;
        s->read_pending = s->need_pending;
        s->read_epoch = s->epoch;
    }
}

void sreader_done(struct sreader *s, bool ok)
{
    s->in_batch = false;
    if (ok) {
        s->backoff_ms = 0;
        sreader_kick(s);
        return;
    }
    sreader_reset(s);
    /* At most 5 s, and under half of claim_idle: an entry this consumer
     * keeps retrying (Redis out of memory) never looks abandoned, so it is
     * neither claimed nor set aside as delivered too often. */
    int64_t cap = s->o.claim_idle_ms / 2 < 5000 ? s->o.claim_idle_ms / 2 : 5000;
    s->backoff_ms = s->backoff_ms ? (s->backoff_ms * 2 > cap ? (int)cap : s->backoff_ms * 2) : 100;
    struct timeval tv = {s->backoff_ms / 1000, (s->backoff_ms % 1000) * 1000};
    evtimer_add(s->backoff_timer, &tv);
}

void sreader_release(struct sreader *s)
{
    s->in_batch = false;
    sreader_kick(s);
}

void sreader_reset(struct sreader *s)
{
    s->epoch++;
    s->need_pending = true;
    snprintf(s->cursor, sizeof s->cursor, "0");
}

static void on_claimed(redisAsyncContext *ac, void *r, void *priv)
{
    struct sreader *s = priv;
    redisReply *reply = r;
    (void)ac;
    s->claiming = false;
    if (reply == NULL)
        return;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) {
        log_warn("XAUTOCLAIM failed", "stream", s->o.stream, "error",
                 reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        return;
    }
    snprintf(s->claim_cursor, sizeof s->claim_cursor, "%s", reply->element[0]->str);
    if (reply->element[1]->elements > 0) {
        char n[24];
        snprintf(n, sizeof n, "%zu", reply->element[1]->elements);
        log_info("claimed idle entries", "stream", s->o.stream, "count", n);
        sreader_reset(s);
        sreader_kick(s);
    }
}

/* Sends one entry that keeps coming back to bury_stream, with the reason. */
static void bury(struct sreader *s, const char *id, long long count)
{
    struct cmd c;
    char why[128];
    snprintf(why, sizeof why, "delivered %lld times and never completed (it may crash nudged); set aside", count);
    cmd_init(&c);
    scripts_begin(&c, s->o.scripts, SCRIPT_BURY, 2);
    cmd_adds(&c, s->o.stream);
    cmd_adds(&c, s->o.bury_stream);
    cmd_adds(&c, s->o.group);
    cmd_adds(&c, id);
    cmd_adds(&c, why);
    cmd_adds(&c, s->o.bury_delete ? "1" : "0");
    log_warn("entry set aside", "stream", s->o.stream, "id", id, "to", s->o.bury_stream, "error", why);
    if (cmd_send(&c, s->conn, rconn_ignore, NULL) != 0)
        log_warn("cannot set the entry aside now", "id", id);
    cmd_free(&c);
}

static void send_autoclaim(struct sreader *s)
{
    char idle[24];
    snprintf(idle, sizeof idle, "%lld", (long long)s->o.claim_idle_ms);
    /* Not JUSTID: a claim counts as a delivery, so an entry that crashes
     * every process that takes it reaches SREADER_MAX_DELIVERIES. The
     * claimed entries are read again through the pending list. */
    const char *argv[] = {"XAUTOCLAIM", s->o.stream, s->o.group, s->o.consumer, idle, s->claim_cursor, "COUNT", "100"};
    if (rconn_send(s->conn, on_claimed, s, 8, argv, NULL) != 0)
        s->claiming = false;
}

/* XPENDING IDLE reply: [id, consumer, idle ms, deliveries] per entry. */
static void on_pending(redisAsyncContext *ac, void *r, void *priv)
{
    struct sreader *s = priv;
    redisReply *reply = r;
    (void)ac;
    if (reply == NULL) {
        s->claiming = false;
        return;
    }
    for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
        const redisReply *e = reply->element[i];
        if (e->type == REDIS_REPLY_ARRAY && e->elements == 4 && e->element[3]->integer >= SREADER_MAX_DELIVERIES)
            bury(s, e->element[0]->str, e->element[3]->integer);
    }
    send_autoclaim(s); /* after the buries, on the same connection */
}

void sreader_claim(struct sreader *s)
{
    if (s->claiming || s->stopped || !rconn_up(s->conn))
        return;
    char idle[24];
    snprintf(idle, sizeof idle, "%lld", (long long)s->o.claim_idle_ms);
    const char *argv[] = {"XPENDING", s->o.stream, s->o.group, "IDLE", idle, "-", "+", "100"};
    if (rconn_send(s->conn, on_pending, s, 8, argv, NULL) == 0)
        s->claiming = true;
}

struct prune {
    struct sreader *s;
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
        if (name == NULL || strcmp(name, p->s->o.consumer) == 0 || field_int(info, "pending") != 0 ||
            field_int(info, "idle") < p->idle_ms)
            continue;
        log_info("removing an idle consumer with nothing pending", "stream", p->s->o.stream, "consumer", name);
        if (rconn_sendf(p->s->conn, rconn_ignore, NULL, "XGROUP DELCONSUMER %s %s %s", p->s->o.stream, p->s->o.group,
                        name) != 0)
            break;
    }
    free(p);
}

void sreader_prune(struct sreader *s, int64_t idle_ms)
{
    struct prune *p = util_xmalloc(sizeof *p);
    *p = (struct prune){s, idle_ms};
    if (rconn_sendf(s->conn, on_consumers, p, "XINFO CONSUMERS %s %s", s->o.stream, s->o.group) != 0)
        free(p);
}

static void on_trimmed(redisAsyncContext *ac, void *r, void *priv)
{
    const struct sreader *s = priv;
    redisReply *reply = r;
    (void)ac;
    if (reply && reply->type == REDIS_REPLY_ERROR)
        log_warn("trimming a stream failed", "stream", s->o.stream, "error", reply->str);
}

void sreader_trim(struct sreader *s, int64_t keep_ms, int64_t now_ms)
{
    if (!rconn_up(s->conn))
        return;
    struct cmd c;
    cmd_init(&c);
    scripts_begin(&c, s->o.scripts, SCRIPT_TRIM, 1);
    cmd_adds(&c, s->o.stream);
    cmd_adds(&c, s->o.group);
    if (keep_ms > 0)
        cmd_addf(&c, "%" PRId64 "-0", now_ms - keep_ms);
    if (cmd_send(&c, s->conn, on_trimmed, s) != 0)
        log_debug("cannot trim a stream now", "stream", s->o.stream);
    cmd_free(&c);
}

void sreader_stop(struct sreader *s)
{
    s->stopped = true;
}

bool sreader_busy(const struct sreader *s)
{
    return s->reading || s->claiming;
}

void sreader_free(struct sreader *s)
{
    if (s == NULL)
        return;
    event_free(s->backoff_timer);
    free(s);
}
