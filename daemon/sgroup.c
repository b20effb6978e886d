/* sgroup.c — the upkeep of a consumer group on one stream (sgroup.h). */
#include "sgroup.h"
#include "cmd.h"
#include "log.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sgroup_bury(const struct sgroup *g, const char *id, long long count, const char *to, bool delete)
{
    struct cmd c;
    char why[128];
    snprintf(why, sizeof why, "delivered %lld times and never completed (it may crash nudged); set aside", count);
    cmd_init(&c);
    scripts_begin(&c, g->scripts, SCRIPT_BURY, 2);
    cmd_adds(&c, g->stream);
    cmd_adds(&c, to);
    cmd_adds(&c, g->group);
    cmd_adds(&c, id);
    cmd_adds(&c, why);
    cmd_adds(&c, delete ? "1" : "0");
    log_warn("entry set aside", "stream", g->stream, "id", id, "to", to, "error", why);
    if (cmd_send(&c, g->conn, rconn_ignore, NULL) != 0)
        log_warn("cannot set the entry aside now", "id", id);
    cmd_free(&c);
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
