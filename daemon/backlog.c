/* backlog.c — how far the consumer group is behind on the events streams
 * (see backlog.h): one XINFO GROUPS a stream, all sent at once, summed
 * when the last answer comes.
 */
#include "backlog.h"
#include "log.h"
#include "util.h"

#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

struct backlog {
    const char *group; /* borrowed: the caller's, for as long as answers are due */
    backlog_fn *fn;
    void *data;
    unsigned left;
    uint64_t lag, pending;
    bool failed;
};

static void backlog_step(struct backlog *bl);

/* One stream's XINFO GROUPS: this group's lag and pending, added. */
static void on_groups(redisAsyncContext *ac, void *r, void *priv)
{
    struct backlog *bl = priv;
    redisReply *reply = r;
    (void)ac;
    bl->failed |= reply == NULL || reply->type != REDIS_REPLY_ARRAY;
    for (size_t i = 0; reply && reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
        const redisReply *g = reply->element[i];
        bool ours = false;
        long long lag = 0, pending = 0;
        for (size_t k = 0; g->type == REDIS_REPLY_ARRAY && k + 1 < g->elements; k += 2) {
            const redisReply *key = g->element[k], *v = g->element[k + 1];
            if (key->type != REDIS_REPLY_STRING)
                continue;
            if (strcmp(key->str, "name") == 0 && v->type == REDIS_REPLY_STRING)
                ours = strcmp(v->str, bl->group) == 0;
            else if (strcmp(key->str, "lag") == 0 && v->type == REDIS_REPLY_INTEGER)
                lag = v->integer;
            else if (strcmp(key->str, "pending") == 0 && v->type == REDIS_REPLY_INTEGER)
                pending = v->integer;
        }
        if (ours) {
            bl->lag += (uint64_t)(lag > 0 ? lag : 0);
            bl->pending += (uint64_t)(pending > 0 ? pending : 0);
        }
    }
    backlog_step(bl);
}

/* One answer came back (or, at the end of sending, the hold was let go). */
static void backlog_step(struct backlog *bl)
{
    if (--bl->left > 0)
        return;
    if (!bl->failed) /* a part is no sum: the last figures stand */
        bl->fn(bl->lag, bl->pending, bl->data);
    free(bl);
}

void backlog_ask(struct rconn *rc, const char *const *streams, unsigned n, const char *group, backlog_fn *fn,
                 void *data)
{
    struct backlog *bl = util_xcalloc(1, sizeof *bl);
    *bl = (struct backlog){.group = group, .fn = fn, .data = data};
    bl->left = 1; /* held until every command is sent */
    for (unsigned i = 0; i < n; i++) {
        if (rconn_sendf(rc, on_groups, bl, "XINFO GROUPS %s", streams[i]) != 0) {
            log_debug("cannot ask for the consumer lag now");
            bl->failed = true;
            break;
        }
        bl->left++;
    }
    backlog_step(bl);
}
