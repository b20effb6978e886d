/* inbox.c — the inbox's entries to their shards' streams (see inbox.h). */
#include "inbox.h"
#include "clock.h"
#include "cmd.h"
#include "entry.h"
#include "log.h"
#include "rchain.h"
#include "shard.h"
#include "util.h"

#include <stdlib.h>

struct inbox {
    struct inbox_deps d;
    struct sreader *reader;
    struct cmd call;
    bool busy;
};

struct move;

/* What a reject's reply needs: its batch and its entry. */
struct rejected {
    struct move *m;
    const struct entry *e;
};

/* One batch of the inbox: its entries, and the replies still awaited. */
struct move {
    struct inbox *in;
    struct entry *e;
    struct rejected *rej; /* one an entry */
    size_t n, outstanding;
    bool failed;
};

static void move_step(struct move *m)
{
    if (--m->outstanding > 0)
        return;
    struct inbox *in = m->in;
    for (size_t i = 0; i < m->n; i++)
        entry_clear(&m->e[i]);
    free(m->e);
    free(m->rej);
    bool ok = !m->failed;
    free(m);
    if (ok)
        in->d.stats->redis_refused_ms = 0; /* Redis takes writes again */
    in->busy = false;
    sreader_done(in->reader, ok);
}

/* A reply: an error leaves the entries pending, read again after a backoff. */
static bool reply_ok(struct move *m, const redisReply *reply, const char *what)
{
    if (reply && reply->type != REDIS_REPLY_ERROR)
        return true;
    if (reply)
        stats_redis_error(m->in->d.stats, reply->str, what, clock_now_ms());
    m->failed = true;
    return false;
}

static void on_rejected(redisAsyncContext *ac, void *r, void *priv)
{
    struct rejected *rej = priv;
    struct move *m = rej->m;
    const struct entry *e = rej->e;
    (void)ac;
    if (reply_ok(m, r, "reject")) {
        m->in->d.stats->events_rejected++;
        log_info("event rejected", "id", e->id, "error", e->err);
    }
    move_step(m);
}

static void on_moved(redisAsyncContext *ac, void *r, void *priv)
{
    (void)ac;
    struct move *m = priv;
    reply_ok(m, r, "move");
    move_step(m);
}

static void send_call(struct move *m, redisCallbackFn *fn, void *priv)
{
    if (cmd_send(&m->in->call, m->in->d.conn, fn, priv) == 0)
        m->outstanding++;
    else
        m->failed = true;
}

/* On a Redis Cluster, where the inbox and each shard's stream are in
 * different slots: each valid entry's copy added (the move script
 * without the inbox), then its ack, in a chain (rchain.h). */
static void send_moves_apart(struct move *m)
{
    struct inbox *in = m->in;
    unsigned shards = (unsigned)in->d.cfg->redis_shards;
    for (size_t i = 0; i < m->n; i++) {
        const struct entry *e = &m->e[i];
        if (!e->valid)
            continue;
        struct rchain *ch = rchain_new(in->d.conn, on_moved, m);
        scripts_begin(&in->call, in->d.scripts, SCRIPT_MOVE, 1);
        cmd_adds(&in->call, keys_shard_stream(in->d.keys, shard_of(e->m.customer, shards)));
        cmd_adds(&in->call, "");
        cmd_adds(&in->call, e->id);
        cmd_add(&in->call, e->raw, e->rawlen);
        rchain_add(ch, &in->call);
        const char *ack[] = {"XACK", in->d.keys->events, in->d.keys->group, e->id};
        rchain_addv(ch, ack, sizeof ack / sizeof *ack);
        if (rchain_send(ch) == 0)
            m->outstanding++;
        else
            m->failed = true;
    }
}

/* One move script call for the valid entries (NVALID of them), one reject
 * call each for the others. */
static void send_moves(struct move *m, size_t nvalid)
{
    struct inbox *in = m->in;
    for (size_t i = 0; i < m->n; i++) {
        if (!m->e[i].valid) {
            m->rej[i] = (struct rejected){m, &m->e[i]};
            if (entry_reject_send(in->d.conn, in->d.keys, &m->e[i], on_rejected, &m->rej[i]) == 0)
                m->outstanding++;
            else
                m->failed = true;
        }
    }
    if (nvalid == 0)
        return;
    if (rconn_is_cluster(in->d.conn)) {
        send_moves_apart(m);
        return;
    }
    unsigned shards = (unsigned)in->d.cfg->redis_shards;
    scripts_begin(&in->call, in->d.scripts, SCRIPT_MOVE, (int)(1 + nvalid));
    cmd_adds(&in->call, in->d.keys->events);
    for (size_t i = 0; i < m->n; i++)
        if (m->e[i].valid)
            cmd_adds(&in->call, keys_shard_stream(in->d.keys, shard_of(m->e[i].m.customer, shards)));
    cmd_adds(&in->call, in->d.keys->group);
    for (size_t i = 0; i < m->n; i++) {
        if (m->e[i].valid) {
            cmd_adds(&in->call, m->e[i].id);
            cmd_add(&in->call, m->e[i].raw, m->e[i].rawlen);
        }
    }
    send_call(m, on_moved, m);
}

static void on_batch(const struct sreader_entry *entries, size_t n, void *data)
{
    struct inbox *in = data;
    struct move *m = util_xcalloc(1, sizeof *m);
    m->in = in;
    m->n = n;
    m->e = util_xcalloc(n, sizeof *m->e);
    m->rej = util_xcalloc(n, sizeof *m->rej);
    m->outstanding = 1; /* held until every command is sent */
    int64_t now = clock_now_ms();
    size_t nvalid = 0;
    for (size_t i = 0; i < n; i++) {
        struct entry *e = &m->e[i];
        e->stream = entries[i].stream;
        entry_load(e, entries[i].entry, false, now);
        nvalid += e->valid;
    }
    in->busy = true;
    send_moves(m, nvalid);
    move_step(m);
}

static size_t room(void *data)
{
    struct inbox *in = data;
    return in->busy ? 0 : (size_t)in->d.cfg->redis_batch;
}

struct inbox *inbox_new(const struct inbox_deps *deps)
{
    struct inbox *in = util_xcalloc(1, sizeof *in);
    in->d = *deps;
    cmd_init(&in->call);
    struct sreader_opts o = {(const char *const *)&deps->keys->streams[0],
                             1,
                             deps->keys->group,
                             deps->keys->consumer,
                             deps->cfg->redis_claim_idle_ms,
                             1000,
                             deps->keys->rejected,
                             deps->scripts,
                             false};
    in->reader = sreader_new(deps->base, deps->reader, deps->conn, &o, room, on_batch, in);
    return in;
}

struct sreader *inbox_reader(struct inbox *in)
{
    return in->reader;
}

bool inbox_busy(const struct inbox *in)
{
    return in->busy || sreader_busy(in->reader);
}

void inbox_free(struct inbox *in)
{
    if (in == NULL)
        return;
    sreader_free(in->reader);
    cmd_free(&in->call);
    free(in);
}
