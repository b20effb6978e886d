/* sreader.c — a consumer-group reader for a set of streams (see sreader.h). */
#include "sreader.h"
#include "log.h"
#include "sentry.h"
#include "sgroup.h"
#include "util.h"

#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How a stream is read: its new entries (">"), or its pending list from a
 * reset on (entries handed over before, to this process or to one that
 * died), after the cursor. */
enum smode { SMODE_NEW, SMODE_RECOVER };

/* What the reader knows of one of its streams. */
struct sstream {
    char cursor[64];          /* ">" in SMODE_NEW; else the id after which its pending list is read */
    char seen[64];            /* the highest id a read brought ("": none since the reset) */
    enum smode mode, sent;    /* now; in the read in flight */
    bool active;              /* read (sreader_set_active) ... */
    bool taking_over;         /* ... once the take-over of its pending entries is done */
    unsigned long activation; /* counts the changes of ACTIVE */
    char claim_cursor[64];
};

struct sreader {
    struct rconn *reader, *conn;
    struct sreader_opts o;
    sreader_room_fn *room;
    sreader_batch_fn *batch;
    void *data;
    struct sstream *st; /* one a stream of o.streams */
    bool reading, in_batch, claiming, stopped;
    size_t read_count;               /* the COUNT of the read in flight */
    size_t read_room;                /* the owner's room when it was sent */
    unsigned busy;                   /* streams that gave a full COUNT in the last read (at least 1) */
    unsigned long epoch, read_epoch; /* a reset during a read makes its cursors stale */
    unsigned takeovers;              /* take-overs in flight */
    unsigned claim_stream;           /* the stream the claim in flight is at */
    unsigned trim_next;              /* the stream the next trim starts at */
    int backoff_ms;
    struct event *backoff_timer;
    struct event *kick_event; /* a kick once the current callback is over */
    /* On a Redis Cluster, which takes no command over keys of two slots,
     * a read names one stream, the next readable in turn, without BLOCK
     * (a blocked read would hold the master's one connection); once a
     * turn over all of them brought nothing, the next waits poll_timer. */
    bool one_a_read;
    unsigned next_stream, empty_reads;
    struct event *poll_timer;
    struct sreader_entry *out; /* scratch: the entries handed to the owner */
    size_t out_cap;
    struct sreader_entry *held; /* entries read and held back (copies, owned), NHELD of them, sorted */
    size_t nheld, held_cap;
    bool ready_all;               /* every held entry may go without a read ... */
    uint64_t ready_ms, ready_seq; /* ... else those up to this id */
    struct event *ready_event;    /* hands over held entries that may go */
    const char **argv;            /* scratch: a read's arguments */
    unsigned *picked;             /* scratch: the streams a read names */
};

static void on_ready(evutil_socket_t fd, short what, void *arg);

/* Stream I's upkeep (sgroup.h). */
static struct sgroup group_of(const struct sreader *s, unsigned i)
{
    return (struct sgroup){s->conn, s->o.scripts, s->o.streams[i], s->o.group, s->o.consumer};
}

/* The backoff ran out, or a kick was put off (kick_event). */
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
    s->st = util_xcalloc(opts->nstreams, sizeof *s->st);
    s->busy = opts->nstreams;
    s->argv = util_xcalloc(9 + 2 * (size_t)opts->nstreams, sizeof *s->argv);
    s->picked = util_xcalloc(opts->nstreams, sizeof *s->picked);
    for (unsigned i = 0; i < opts->nstreams; i++) {
        snprintf(s->st[i].claim_cursor, sizeof s->st[i].claim_cursor, "0-0");
        s->st[i].active = true;
    }
    sreader_reset(s);
    s->backoff_timer = evtimer_new(base, on_backoff, s);
    s->kick_event = event_new(base, -1, 0, on_backoff, s);
    s->poll_timer = evtimer_new(base, on_backoff, s);
    s->one_a_read = rconn_is_cluster(reader);
    s->ready_event = event_new(base, -1, 0, on_ready, s);
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

/* E's id against MS-SEQ. */
static int entry_cmp(const struct sreader_entry *e, uint64_t ms, uint64_t seq)
{
    if (e->ms != ms)
        return e->ms < ms ? -1 : 1;
    return e->seq < seq ? -1 : e->seq > seq;
}

/* In the order of their ids; entries of two streams with one id by the
 * streams' order. */
static int by_id(const void *pa, const void *pb)
{
    const struct sreader_entry *a = pa, *b = pb;
    int c = entry_cmp(a, b->ms, b->seq);
    return c ? c : (a->index < b->index ? -1 : a->index > b->index);
}

/* Which of the reader's streams NAME is; -1: none of them. */
static int stream_index(const struct sreader *s, const redisReply *name)
{
    for (unsigned i = 0; name->type == REDIS_REPLY_STRING && i < s->o.nstreams; i++)
        if (strcmp(s->o.streams[i], name->str) == 0)
            return (int)i;
    return -1;
}

static void recreate_groups(struct sreader *s)
{
    for (unsigned i = 0; i < s->o.nstreams; i++)
        if (rconn_sendf(s->conn, on_group_created, NULL, "XGROUP CREATE %s %s 0 MKSTREAM", s->o.streams[i],
                        s->o.group) != 0)
            log_warn("cannot recreate the group now", "stream", s->o.streams[i]);
}

/* The read's parts, [name, entries] each, by stream (NULL: none came). */
static void parts_by_stream(struct sreader *s, const redisReply *reply, const redisReply **part)
{
    for (size_t k = 0; reply->type == REDIS_REPLY_ARRAY && k < reply->elements; k++) {
        const redisReply *p = reply->element[k];
        if (p->type != REDIS_REPLY_ARRAY || p->elements != 2 || p->element[1]->type != REDIS_REPLY_ARRAY)
            continue;
        int i = stream_index(s, p->element[0]);
        if (i >= 0)
            part[i] = p->element[1];
    }
}

/* How far stream I's entries are known after this read: a stream that
 * gave a full COUNT may have more just after its last; one whose pending
 * list this read drained has new entries next, all above the highest id
 * read from it (above the group's last delivered one), but none of them
 * was asked for. NULL: all it has (new entries only come later). */
static const char *known_to(const struct sreader *s, unsigned i, const redisReply *part)
{
    const struct sstream *st = &s->st[i];
    const char *last = part ? sentry_last_id(part) : NULL;
    if (part && part->elements >= s->read_count && last)
        return last;
    if (st->sent == SMODE_NEW)
        return NULL;
    if (last && (st->seen[0] == '\0' || sentry_id_cmp(last, st->seen) > 0))
        return last;
    return st->seen[0] ? st->seen : "0-0"; /* nothing known: hold the others back one read */
}

/* The highest id all entries up to which are known across the streams
 * (known_to): an entry above it waits, so that one that may come before
 * it from another stream goes first. NULL: no bound. */
static const char *safe_id(const struct sreader *s, const redisReply **part)
{
    const char *safe = NULL;
    for (unsigned i = 0; i < s->o.nstreams; i++) {
        const char *known = known_to(s, i, part[i]);
        if (known && (safe == NULL || sentry_id_cmp(known, safe) < 0))
            safe = known;
    }
    return safe;
}

/* Where stream I's next read starts after this one brought ENTRIES: a
 * pending list read whole (fewer than COUNT) gives way to new entries. */
static void next_cursor(struct sreader *s, unsigned i, const redisReply *entries)
{
    struct sstream *st = &s->st[i];
    if (st->sent == SMODE_NEW)
        return;
    if (entries && entries->elements >= s->read_count) {
        snprintf(st->cursor, sizeof st->cursor, "%s", sentry_last_id(entries));
    } else {
        st->mode = SMODE_NEW;
        snprintf(st->cursor, sizeof st->cursor, ">");
    }
}

static void push(struct sreader_entry **v, size_t *n, size_t *cap, struct sreader_entry e)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        *v = util_xrealloc(*v, *cap * sizeof **v);
    }
    (*v)[(*n)++] = e;
}

/* Adds stream I's live entries of the read to what the owner may get (N of
 * them so far), acking the ones trimmed while pending. */
static void take(struct sreader *s, unsigned i, const redisReply *entries, size_t *n)
{
    const char *last = sentry_last_id(entries); /* a stream's entries come in order */
    if (last && s->read_epoch == s->epoch && (s->st[i].seen[0] == '\0' || sentry_id_cmp(last, s->st[i].seen) > 0))
        snprintf(s->st[i].seen, sizeof s->st[i].seen, "%s", last);
    for (size_t k = 0; k < entries->elements; k++) {
        const redisReply *e = entries->element[k];
        const char *id = sentry_id(e);
        if (id == NULL)
            continue;
        if (!sentry_live(e)) { /* trimmed while pending: nothing to do */
            if (rconn_sendf(s->conn, rconn_ignore, NULL, "XACK %s %s %s", s->o.streams[i], s->o.group, id) != 0)
                log_warn("cannot ack a deleted entry now", "stream", s->o.streams[i]);
            continue;
        }
        struct sreader_entry se = {e, s->o.streams[i], i, s->st[i].sent == SMODE_RECOVER, 0, 0};
        sentry_id_parse(id, &se.ms, &se.seq);
        push(&s->out, n, &s->out_cap, se);
    }
}

/* The entries that go now (in s->out, returned: how many) and the ones
 * held back (s->held, copies): this read's N entries in s->out (sorted)
 * merged with the ones held before (sorted), at most ROOM of those up to
 * SAFE (NULL: all) going; the rest of those may go without a read. The
 * held copies that go are freed once the owner has them (*GONE, *NGONE). */
static size_t split(struct sreader *s, size_t n, const char *safe, size_t room, struct sreader_entry **gone,
                    size_t *ngone)
{
    struct sreader_entry *fresh = s->out, *old = s->held;
    size_t nold = s->nheld, nout = 0, cap = n + nold;
    struct sreader_entry *out = util_xcalloc(cap ? cap : 1, sizeof *out);
    s->held = NULL;
    s->nheld = s->held_cap = 0;
    *gone = util_xcalloc(nold ? nold : 1, sizeof **gone);
    *ngone = 0;
    uint64_t safe_ms = 0, safe_seq = 0;
    if (safe)
        sentry_id_parse(safe, &safe_ms, &safe_seq);
    for (size_t i = 0, j = 0; i < n || j < nold;) {
        bool from_old = j < nold && (i == n || by_id(&old[j], &fresh[i]) < 0);
        struct sreader_entry e = from_old ? old[j++] : fresh[i++];
        if (nout < room && (safe == NULL || entry_cmp(&e, safe_ms, safe_seq) <= 0)) {
            out[nout++] = e;
            if (from_old)
                (*gone)[(*ngone)++] = e;
            continue;
        }
        if (!from_old)
            e.entry = sentry_copy(e.entry);
        push(&s->held, &s->nheld, &s->held_cap, e);
    }
    free(old);
    free(s->out);
    s->out = out;
    s->out_cap = cap ? cap : 1;
    s->ready_all = safe == NULL;
    s->ready_ms = safe_ms;
    s->ready_seq = safe_seq;
    return nout;
}

/* Whether held entry K may go without a read. */
static bool held_may_go(const struct sreader *s, size_t k)
{
    return s->ready_all || entry_cmp(&s->held[k], s->ready_ms, s->ready_seq) <= 0;
}

/* Whether the first held entry may go without a read. */
static bool held_ready(const struct sreader *s)
{
    return s->nheld > 0 && held_may_go(s, 0);
}

/* Frees the held copies that went to the owner. */
static void free_gone(struct sreader_entry *gone, size_t n)
{
    for (size_t h = 0; h < n; h++)
        free((void *)gone[h].entry);
    free(gone);
}

/* Drops the held copies (of stream I, or of all when I is -1): they stay
 * pending in Redis, read again after a reset or taken over by an owner. */
static void drop_held(struct sreader *s, int i)
{
    size_t kept = 0;
    for (size_t h = 0; h < s->nheld; h++) {
        if (i < 0 || s->held[h].index == (unsigned)i)
            free((void *)s->held[h].entry);
        else
            s->held[kept++] = s->held[h];
    }
    s->nheld = kept;
}

static bool readable(const struct sstream *st);

/* A read brought nothing to hand over: read again, or, reading one
 * stream a read, once a whole turn brought nothing, after SREADER_POLL_MS. */
static void read_nothing(struct sreader *s)
{
    unsigned nreadable = 0;
    for (unsigned i = 0; i < s->o.nstreams; i++)
        nreadable += readable(&s->st[i]);
    if (s->one_a_read && ++s->empty_reads >= nreadable) {
        s->empty_reads = 0;
        struct timeval tv = {0, SREADER_POLL_MS * 1000};
        evtimer_add(s->poll_timer, &tv);
        return;
    }
    sreader_kick(s);
}

/* A read over the streams came back. Its entries, with the ones held back
 * before, go to the owner in the order of their ids across the streams, as
 * far as that order is known (safe_id); the rest wait in memory for the
 * next read, so a customer whose events are in two streams (an anonymous
 * id's shard and its user's) meets them in the order they were written,
 * as `nudged replay` does. */
static void on_read(redisAsyncContext *ac, void *r, void *priv)
{
    struct sreader *s = priv;
    redisReply *reply = r;
    (void)ac;
    s->reading = false;
    if (reply == NULL) /* connection lost; the up callback resets and kicks */
        return;
    if (reply->type == REDIS_REPLY_ERROR) {
        log_warn("XREADGROUP failed", "stream", s->o.streams[0], "error", reply->str);
        if (strncmp(reply->str, "NOGROUP", 7) == 0)
            recreate_groups(s);
        sreader_done(s, false);
        return;
    }
    const redisReply **part = util_xcalloc(s->o.nstreams, sizeof *part);
    parts_by_stream(s, reply, part);
    char safe_copy[64]; /* safe_id may point into a stream's seen, which take() moves on */
    /* One stream a read: no other stream's entry can come before these. */
    const char *known = s->one_a_read ? NULL : safe_id(s, part), *safe = NULL;
    if (known) {
        snprintf(safe_copy, sizeof safe_copy, "%s", known);
        safe = safe_copy;
    }
    size_t n = 0;
    unsigned busy = 0;
    for (unsigned i = 0; i < s->o.nstreams; i++) {
        busy += part[i] && part[i]->elements >= s->read_count; /* it may have more */
        if (part[i])
            take(s, i, part[i], &n);
        if (s->st[i].active && s->read_epoch == s->epoch)
            next_cursor(s, i, part[i]);
        s->st[i].sent = SMODE_NEW;
    }
    free(part);
    s->busy = busy ? busy : 1;
    if (n > 1)
        qsort(s->out, n, sizeof *s->out, by_id);
    struct sreader_entry *gone;
    size_t ngone;
    n = split(s, n, safe, s->read_room, &gone, &ngone);
    if (n > 0) {
        s->in_batch = true;
        s->batch(s->out, n, s->data);
    }
    free_gone(gone, ngone); /* the owner copied what it keeps */
    if (n == 0)
        read_nothing(s);
    else
        s->empty_reads = 0;
}

/* Held entries that may go (ready_event): up to the owner's room of them,
 * without a read. */
static void on_ready(evutil_socket_t fd, short what, void *arg)
{
    struct sreader *s = arg;
    (void)fd;
    (void)what;
    size_t room = s->room(s->data);
    if (s->stopped || s->reading || s->in_batch || room == 0 || !held_ready(s))
        return;
    size_t n = 0;
    while (n < room && n < s->nheld && held_may_go(s, n))
        n++;
    struct sreader_entry *go = util_xcalloc(n, sizeof *go);
    memcpy(go, s->held, n * sizeof *go);
    memmove(s->held, s->held + n, (s->nheld - n) * sizeof *s->held);
    s->nheld -= n;
    s->in_batch = true;
    s->batch(go, n, s->data);
    free_gone(go, n);
}

/* Whether a stream is in the next read. */
static bool readable(const struct sstream *st)
{
    return st->active && !st->taking_over;
}

/* One XREADGROUP over the active streams, each from its cursor; it blocks
 * only when all read new entries (Redis answers at once when one reads its
 * pending list). */
void sreader_kick(struct sreader *s)
{
    if (s->stopped || s->reading || s->in_batch || !rconn_up(s->reader) || !rconn_up(s->conn))
        return;
    if (evtimer_pending(s->backoff_timer, NULL) || evtimer_pending(s->poll_timer, NULL))
        return;
    size_t room = s->room(s->data);
    if (room == 0)
        return;
    if (held_ready(s)) { /* from the loop, not from the owner's call in hand */
        event_active(s->ready_event, 0, 0);
        return;
    }
    /* COUNT holds for each stream: the room shared among the streams that
     * had more than they gave last time, so a read brings about the room,
     * not the room times the streams (the rest would wait in memory). */
    size_t per_stream = s->one_a_read ? room : room / s->busy > 0 ? room / s->busy : 1; /* rounded down: fits */
    char count[24], block[24];
    snprintf(count, sizeof count, "%zu", per_stream);
    snprintf(block, sizeof block, "%lld", (long long)s->o.block_ms);
    const char **argv = s->argv;
    int argc = 0;
    const char *head[] = {"XREADGROUP", "GROUP", s->o.group, s->o.consumer, "COUNT", count, "BLOCK", block};
    for (size_t i = 0; i < sizeof head / sizeof *head; i++)
        argv[argc++] = head[i];
    if (s->nheld > 0 || s->one_a_read) /* entries wait for this read, or a turn: it must not block */
        argc -= 2;
    argv[argc++] = "STREAMS";
    unsigned k = 0, from = s->one_a_read ? s->next_stream : 0, most = s->one_a_read ? 1 : s->o.nstreams;
    for (unsigned j = 0; j < s->o.nstreams && k < most; j++) {
        unsigned i = (from + j) % s->o.nstreams;
        if (readable(&s->st[i]))
            s->picked[k++] = i;
    }
    if (k == 0) /* no stream is this process's now */
        return;
    s->next_stream = (s->picked[0] + 1) % s->o.nstreams;
    for (unsigned j = 0; j < k; j++) {
        struct sstream *st = &s->st[s->picked[j]];
        argv[argc + j] = s->o.streams[s->picked[j]];
        argv[argc + k + j] = st->cursor;
        st->sent = st->mode;
    }
    argc += 2 * (int)k;
    if (rconn_send(s->reader, on_read, s, argc, argv, NULL) == 0) {
        s->reading = true;
        s->read_count = per_stream;
        s->read_room = room;
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

/* Stream I's pending list is read again from its start. */
static void reset_stream(struct sreader *s, unsigned i)
{
    s->st[i].mode = SMODE_RECOVER;
    snprintf(s->st[i].cursor, sizeof s->st[i].cursor, "0");
    s->st[i].seen[0] = '\0';
    drop_held(s, (int)i);
}

void sreader_reset(struct sreader *s)
{
    s->epoch++;
    for (unsigned i = 0; i < s->o.nstreams; i++)
        reset_stream(s, i);
}

static void claim_next(struct sreader *s);

static void on_claimed(redisAsyncContext *ac, void *r, void *priv)
{
    struct sreader *s = priv;
    redisReply *reply = r;
    (void)ac;
    if (reply == NULL) {
        s->claiming = false;
        return;
    }
    unsigned i = s->claim_stream;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 || reply->element[0]->type != REDIS_REPLY_STRING) {
        log_warn("XAUTOCLAIM failed", "stream", s->o.streams[i], "error",
                 reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
    } else {
        snprintf(s->st[i].claim_cursor, sizeof s->st[i].claim_cursor, "%s", reply->element[0]->str);
        if (reply->element[1]->elements > 0) {
            char n[24];
            snprintf(n, sizeof n, "%zu", reply->element[1]->elements);
            log_info("claimed idle entries", "stream", s->o.streams[i], "count", n);
            s->epoch++;
            reset_stream(s, i);
            sreader_kick(s);
        }
    }
    s->claim_stream++;
    claim_next(s);
}

static void send_autoclaim(struct sreader *s)
{
    unsigned i = s->claim_stream;
    char idle[24];
    snprintf(idle, sizeof idle, "%lld", (long long)s->o.claim_idle_ms);
    /* Not JUSTID: a claim counts as a delivery, so an entry that crashes
     * every process that takes it reaches SGROUP_MAX_DELIVERIES. The
     * claimed entries are read again through the pending list. */
    const char *argv[] = {"XAUTOCLAIM", s->o.streams[i],       s->o.group, s->o.consumer,
                          idle,         s->st[i].claim_cursor, "COUNT",    "100"};
    if (rconn_send(s->conn, on_claimed, s, 8, argv, NULL) != 0)
        s->claiming = false;
}

static void claim_go(void *s)
{
    send_autoclaim(s);
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
    struct sgroup g = group_of(s, s->claim_stream);
    sgroup_bury_pending(&g, reply, s->o.bury_stream, s->o.bury_delete, claim_go, s); /* the claim after them */
}

/* The claim goes on with the next stream, one at a time; the last ends it. */
static void claim_next(struct sreader *s)
{
    while (s->claim_stream < s->o.nstreams && !s->st[s->claim_stream].active)
        s->claim_stream++;
    if (s->claim_stream >= s->o.nstreams || s->stopped || !rconn_up(s->conn)) {
        s->claiming = false;
        return;
    }
    char idle[24];
    snprintf(idle, sizeof idle, "%lld", (long long)s->o.claim_idle_ms);
    const char *argv[] = {"XPENDING", s->o.streams[s->claim_stream], s->o.group, "IDLE", idle, "-", "+", "100"};
    s->claiming = rconn_send(s->conn, on_pending, s, 8, argv, NULL) == 0;
}

void sreader_claim(struct sreader *s)
{
    if (s->claiming)
        return;
    s->claim_stream = 0;
    claim_next(s);
}

void sreader_prune(struct sreader *s, int64_t idle_ms)
{
    for (unsigned i = 0; i < s->o.nstreams && rconn_up(s->conn); i++)
        if (s->st[i].active) {
            struct sgroup g = group_of(s, i);
            sgroup_prune(&g, idle_ms);
        }
}

void sreader_trim(struct sreader *s, int64_t keep_ms, int64_t now_ms)
{
    unsigned active = 0;
    for (unsigned i = 0; i < s->o.nstreams; i++)
        active += s->st[i].active;
    /* An eighth of the active streams a call, in turn: each is trimmed
     * every eight calls, and a trim (an XINFO GROUPS, an XPENDING) costs
     * Redis the same whatever it removes. */
    unsigned todo = active / SREADER_TRIM_TURNS > 0 ? active / SREADER_TRIM_TURNS : 1;
    for (unsigned k = 0; k < s->o.nstreams && todo > 0 && rconn_up(s->conn); k++) {
        unsigned i = s->trim_next++ % s->o.nstreams;
        if (s->st[i].active) {
            struct sgroup g = group_of(s, i);
            sgroup_trim(&g, keep_ms, now_ms);
            todo--;
        }
    }
}

/* A take-over in flight (sgroup_take_over), of one activation of STREAM. */
struct takeover {
    struct sreader *s;
    unsigned stream;
    unsigned long epoch; /* of the activation: a later change ends it */
};

static bool takeover_current(void *data)
{
    const struct takeover *t = data;
    return t->s->st[t->stream].active && t->s->st[t->stream].activation == t->epoch;
}

/* The take-over is over (all claimed, or given up: the rest are claimed
 * once idle): the stream is read, from its pending list. */
static void takeover_end(void *data)
{
    struct takeover *t = data;
    struct sreader *s = t->s;
    struct sstream *st = &s->st[t->stream];
    if (st->activation == t->epoch) {
        st->taking_over = false;
        s->epoch++;
        reset_stream(s, t->stream);
        sreader_kick(s);
    }
    s->takeovers--;
    free(t);
}

void sreader_set_active(struct sreader *s, unsigned i, bool active, bool take_over)
{
    struct sstream *st = &s->st[i];
    if (st->active == active)
        return;
    st->active = active;
    st->activation++;
    st->taking_over = false;
    s->epoch++;
    reset_stream(s, i);
    if (active && take_over && rconn_up(s->conn)) {
        st->taking_over = true; /* not read before: what it read would be read again */
        struct takeover *t = util_xmalloc(sizeof *t);
        *t = (struct takeover){s, i, st->activation};
        s->takeovers++;
        struct sgroup g = group_of(s, i);
        sgroup_take_over(&g, s->o.bury_stream, s->o.bury_delete, takeover_current, takeover_end, t);
    }
    /* Not at once: the owner turns several streams on in one go, and a
     * read of the first alone would hand over its entries before older
     * ones of the others. */
    event_active(s->kick_event, 0, 0);
}

void sreader_stop(struct sreader *s)
{
    s->stopped = true;
}

bool sreader_busy(const struct sreader *s)
{
    return s->reading || s->claiming || s->takeovers > 0;
}

void sreader_free(struct sreader *s)
{
    if (s == NULL)
        return;
    event_free(s->backoff_timer);
    event_free(s->kick_event);
    event_free(s->poll_timer);
    event_free(s->ready_event);
    free(s->st);
    free(s->argv);
    free(s->picked);
    free(s->out);
    drop_held(s, -1);
    free(s->held);
    free(s);
}
