/* scripts.c — loading and calling the Lua that keeps every Redis step
 * atomic. The scripts are daemon/lua/NAME.lua, each with its KEYS and ARGV
 * documented at its top, embedded at build time (scripts/embed-lua.sh) as
 * scripts_lua[]. A script builds no key name from an id: it gets them in
 * KEYS, or reads them from a set that holds key names (the buyers, a
 * user's merged ids), so the key layout is keys.c's alone (commit.lua
 * names a customer's link after its profile key, "...:p" to "...:a").
 * Times are passed in (ms since the epoch) so the scripts stay
 * deterministic. They
 * are loaded whenever the connection comes up (on a Redis Cluster, on
 * every master: rcluster.h).
 */
#include "scripts.h"
#include "log.h"

#include <hiredis/hiredis.h>
#include <string.h>

static void on_loaded(redisAsyncContext *ac, void *r, void *priv)
{
    struct scripts *s = ((struct scripts_req *)priv)->s;
    int id = ((struct scripts_req *)priv)->id;
    redisReply *reply = r;
    (void)ac;
    if (reply && reply->type == REDIS_REPLY_STRING && reply->len == 40) {
        memcpy(s->sha[id], reply->str, 41);
        s->loaded++;
    } else {
        log_error("SCRIPT LOAD failed", "error", reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no reply");
        s->failed = true;
    }
    if (--s->outstanding == 0)
        s->done(s->data, !s->failed);
}

int scripts_load(struct scripts *s, struct rconn *rc, void (*done)(void *data, bool ok), void *data)
{
    s->done = done;
    s->data = data;
    s->loaded = 0;
    s->failed = false;
    s->outstanding = 0;
    for (int i = 0; i < SCRIPT_COUNT; i++) {
        s->reqs[i] = (struct scripts_req){s, i};
        if (rconn_sendf(rc, on_loaded, &s->reqs[i], "SCRIPT LOAD %s", scripts_lua[i]) != 0) {
            s->failed = true;
            return s->outstanding ? 0 : -1;
        }
        s->outstanding++;
    }
    return 0;
}

void scripts_begin_eval(struct cmd *c, enum script_id id, int nkeys)
{
    cmd_reset(c);
    cmd_adds(c, "EVAL");
    cmd_adds(c, scripts_lua[id]);
    cmd_addi(c, nkeys);
}

void scripts_begin(struct cmd *c, const struct scripts *s, enum script_id id, int nkeys)
{
    cmd_reset(c);
    cmd_adds(c, "EVALSHA");
    cmd_add(c, s->sha[id], 40);
    cmd_addi(c, nkeys);
}

bool scripts_transient_error(const char *err)
{
    static const char *const transient[] = {"NOSCRIPT", "OOM",      "LOADING",     "BUSY",      "MASTERDOWN",
                                            "READONLY", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS"};
    for (size_t i = 0; i < sizeof transient / sizeof transient[0]; i++)
        if (strncmp(err, transient[i], strlen(transient[i])) == 0)
            return true;
    return false;
}
