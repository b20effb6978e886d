/* tally.c — a round's counts as one tally, and a shard's owner folding
 * the shard's tallies into its counts hashes (tally.h). */
#include "tally.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tally_format(struct cmd *c, json_t *counts)
{
    struct buf b;
    const char *t, *k;
    json_t *of, *v;
    util_buf_init(&b, SIZE_MAX - 1);
    json_object_foreach(counts, t, of)
    {
        json_object_foreach(of, k, v)
        {
            if (util_buf_printf(&b, "%s%s %s %lld", b.len ? " " : "", t, k, (long long)json_integer_value(v)) < 0)
                util_fatal("out of memory");
        }
    }
    cmd_addcopy(c, b.len ? b.data : "", b.len);
    util_buf_free(&b);
}

/* The next word of S (before END) at *AT, its length in *LEN; false at
 * the end or on an empty word. */
static bool next_word(const char **at, const char *end, const char **word, size_t *len)
{
    const char *s = *at;
    if (s >= end)
        return false;
    const char *sp = memchr(s, ' ', (size_t)(end - s));
    const char *e = sp ? sp : end;
    *word = s;
    *len = (size_t)(e - s);
    *at = sp ? sp + 1 : end;
    return *len > 0;
}

static bool parse_count(const char *s, size_t len, long long *n)
{
    if (len == 0 || len > 18)
        return false;
    *n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *n = *n * 10 + (s[i] - '0');
    }
    return true;
}

void tally_add(json_t *counts, const char *id, size_t idlen, const char *count, long long n)
{
    json_t *of = json_object_getn(counts, id, idlen);
    if (of == NULL) {
        of = json_object();
        json_object_setn_new(counts, id, idlen, of);
    }
    json_object_set_new(of, count, json_integer(json_integer_value(json_object_get(of, count)) + n));
}

/* One "ID COUNT N" of a tally at *AT (before END) into ADD. */
static bool parse_one(json_t *add, const char **at, const char *end)
{
    const char *id, *count, *num;
    size_t idlen, countlen, numlen;
    long long n;
    if (!next_word(at, end, &id, &idlen) || !next_word(at, end, &count, &countlen) ||
        !next_word(at, end, &num, &numlen) || !parse_count(num, numlen, &n) || countlen >= 8)
        return false;
    char name[8];
    memcpy(name, count, countlen);
    name[countlen] = '\0';
    tally_add(add, id, idlen, name, n);
    return true;
}

int tally_parse(json_t *counts, const char *s, size_t len)
{
    json_t *add = json_object();
    const char *at = s, *end = s + len;
    while (at < end)
        if (!parse_one(add, &at, end)) {
            json_decref(add);
            return -1;
        }
    const char *t, *k;
    json_t *of, *v;
    json_object_foreach(add, t, of)
    {
        json_object_foreach(of, k, v)
        {
            tally_add(counts, t, strlen(t), k, json_integer_value(v));
        }
    }
    json_decref(add);
    return 0;
}

struct tally_folder {
    struct rconn *conn;
    const struct scripts *scripts;
    const struct keys *keys;
    unsigned shard; /* whose tallies it folds, when this process owns it */
    bool owned, busy;
    size_t nread;                 /* how many tallies the fold in flight took */
    uint64_t waiting;             /* the tallies waiting when last looked at */
    char generation[24];          /* the number of folds done, read before the tallies */
    int64_t now_ms, last_fold_ms; /* the last fold (or start): a minute later, what waits is folded */
    struct cmd c;
};

struct tally_folder *tally_folder_new(struct rconn *conn, const struct scripts *scripts, const struct keys *keys,
                                      unsigned shard)
{
    struct tally_folder *f = util_xcalloc(1, sizeof *f);
    *f = (struct tally_folder){.conn = conn, .scripts = scripts, .keys = keys, .shard = shard, .last_fold_ms = -1};
    cmd_init(&f->c);
    return f;
}

void tally_folder_own(struct tally_folder *f, bool owned)
{
    f->owned = owned;
    if (!owned)
        f->waiting = 0; /* another process looks now */
}

void tally_folder_metrics(struct tally_folder *const *f, size_t n, struct buf *out)
{
    uint64_t waiting = 0; /* the longest list: each folds on its own once 1,024 wait */
    for (size_t i = 0; i < n; i++)
        waiting = f[i]->waiting > waiting ? f[i]->waiting : waiting;
    metrics_gauge(out, "nudged_counts_tallies_waiting",
                  "Goal and holdout tallies not folded into their counts yet, in the longest tally list of the shards "
                  "this process owns.",
                  waiting, "gauge");
}

static void read_tallies(struct tally_folder *f);

static void on_folded(redisAsyncContext *ac, void *r, void *priv)
{
    struct tally_folder *f = priv;
    redisReply *reply = r;
    (void)ac;
    f->busy = false;
    if (reply == NULL)
        return; /* the connection was lost: the tallies wait for the next fold */
    if (reply->type == REDIS_REPLY_ERROR)
        log_warn("the tallies of the counts were not folded; they wait for the next fold", "error", reply->str);
    else if (reply->type == REDIS_REPLY_STRING)
        log_warn("a trigger's counts were not kept: their key holds something else than nudged's hash (the other "
                 "counts were folded)",
                 "keys", reply->str);
    if (reply->type != REDIS_REPLY_ERROR) {
        f->last_fold_ms = f->now_ms;
        if (f->nread == TALLY_FOLD_MAX && f->owned) /* more may wait: the next fold at once */
            read_tallies(f);
    }
}

/* The fold of the N tallies read, summed in SUMS ({ID: {COUNT: n}}). */
static void send_fold(struct tally_folder *f, json_t *sums, size_t n)
{
    const char *t, *k;
    json_t *of, *v;
    scripts_begin(&f->c, f->scripts, SCRIPT_FOLD, (int)(3 + json_object_size(sums)));
    cmd_adds(&f->c, f->keys->leases[f->shard]);
    cmd_adds(&f->c, f->keys->tally[f->shard]);
    cmd_adds(&f->c, f->keys->folds[f->shard]);
    json_object_foreach(sums, t, of)
    {
        keys_add_measures(&f->c, f->keys, f->shard, t);
    }
    cmd_adds(&f->c, f->keys->consumer);
    cmd_addi(&f->c, (int64_t)n);
    cmd_adds(&f->c, f->generation);
    json_object_foreach(sums, t, of)
    {
        cmd_addi(&f->c, (int64_t)json_object_size(of));
        json_object_foreach(of, k, v)
        {
            cmd_adds(&f->c, k);
            cmd_addi(&f->c, (int64_t)json_integer_value(v));
        }
    }
    if (cmd_send(&f->c, f->conn, on_folded, f) != 0)
        f->busy = false;
}

static void on_tallies(redisAsyncContext *ac, void *r, void *priv)
{
    struct tally_folder *f = priv;
    redisReply *reply = r;
    (void)ac;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
        f->busy = false;
        if (reply && reply->type == REDIS_REPLY_ARRAY)
            f->last_fold_ms = f->now_ms; /* nothing waits */
        return;
    }
    json_t *sums = json_object();
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply *e = reply->element[i];
        if (e->type != REDIS_REPLY_STRING || tally_parse(sums, e->str, e->len) != 0)
            log_warn("a tally that is not one was dropped from the tally list (nothing of nudged's wrote it)", "tally",
                     e->type == REDIS_REPLY_STRING ? e->str : "(not a string)");
    }
    f->nread = reply->elements;
    send_fold(f, sums, reply->elements);
    json_decref(sums);
}

/* The number of folds done came back, read before the tallies: a fold by
 * another process in between makes this one's refused (fold.lua), never
 * counted twice. */
static void on_generation(redisAsyncContext *ac, void *r, void *priv)
{
    struct tally_folder *f = priv;
    redisReply *reply = r;
    (void)ac;
    if (reply && reply->type == REDIS_REPLY_STRING && reply->len < sizeof f->generation)
        memcpy(f->generation, reply->str, reply->len + 1);
    else if (reply && reply->type == REDIS_REPLY_NIL)
        strcpy(f->generation, "0");
    else
        f->generation[0] = '\0'; /* the fold that follows is refused */
}

/* The number of folds done, then the tallies: in this order on one
 * connection. */
static void read_tallies(struct tally_folder *f)
{
    f->busy = true;
    if (rconn_sendf(f->conn, on_generation, f, "GET %s", f->keys->folds[f->shard]) != 0 ||
        rconn_sendf(f->conn, on_tallies, f, "LRANGE %s 0 %d", f->keys->tally[f->shard], TALLY_FOLD_MAX - 1) != 0)
        f->busy = false;
}

static void on_length(redisAsyncContext *ac, void *r, void *priv)
{
    struct tally_folder *f = priv;
    redisReply *reply = r;
    (void)ac;
    f->busy = false;
    if (reply && reply->type == REDIS_REPLY_INTEGER)
        f->waiting = (uint64_t)(reply->integer > 0 ? reply->integer : 0);
    if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer > 0 &&
        (reply->integer >= TALLY_FOLD || f->now_ms - f->last_fold_ms >= TALLY_FOLD_AGE_MS))
        read_tallies(f);
}

void tally_folder_tick(struct tally_folder *f, int64_t now_ms)
{
    if (f->last_fold_ms < 0)
        f->last_fold_ms = now_ms;
    if (!f->owned || f->busy)
        return;
    f->now_ms = now_ms;
    f->busy = rconn_sendf(f->conn, on_length, f, "LLEN %s", f->keys->tally[f->shard]) == 0;
}

void tally_folder_free(struct tally_folder *f)
{
    if (f == NULL)
        return;
    cmd_free(&f->c);
    free(f);
}
