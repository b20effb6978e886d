/* forget.c — one command on a short-lived loop, with the daemon's own Redis
 * connection code (AUTH, SELECT, unix sockets) and a hard deadline. */
#include "forget.h"
#include "cmd.h"
#include "keys.h"
#include "log.h"
#include "message.h"
#include "profile.h"
#include "rconn.h"

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

#define FORGET_DEADLINE_S 10

struct forget {
    struct event_base *base;
    struct keys keys;
    const char *id;
    struct cmd call;
    bool sent;
    int rc;
};

static void on_reply(redisAsyncContext *ac, void *r, void *priv)
{
    struct forget *f = priv;
    redisReply *reply = r;
    (void)ac;
    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3) {
        printf("forgot \"%s\": %lld keys, %lld scheduled items, %lld merged anonymous ids\n", f->id,
               reply->element[0]->integer, reply->element[1]->integer, reply->element[2]->integer);
        f->rc = 0;
    } else {
        fprintf(stderr, "nudged: forget failed: %s\n",
                reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no reply");
    }
    event_base_loopbreak(f->base);
}

static void on_state(struct rconn *rc, bool up, void *data)
{
    struct forget *f = data;
    if (!up || f->sent)
        return;
    profile_forget_cmd(&f->call, NULL, &f->keys, f->id);
    f->sent = cmd_send(&f->call, rc, on_reply, f) == 0;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct forget *f = arg;
    (void)fd;
    (void)what;
    fprintf(stderr, "nudged: no answer from Redis within %d s; nothing was erased for sure\n", FORGET_DEADLINE_S);
    event_base_loopbreak(f->base);
}

int forget_run(const struct config *cfg, const char *id)
{
    if (id[0] == '\0' || strlen(id) > MESSAGE_ID_MAX) {
        fprintf(stderr, "nudged: a customer id is 1 to %d bytes\n", MESSAGE_ID_MAX);
        return 2;
    }
    struct forget f = {.id = id, .rc = 3};
    f.base = event_base_new();
    if (f.base == NULL)
        return 3;
    keys_init(&f.keys, cfg);
    cmd_init(&f.call);
    struct rconn *rc = rconn_new(f.base, cfg->redis_url, cfg->redis_password, "forget", on_state, &f);
    struct event *deadline = evtimer_new(f.base, on_deadline, &f);
    struct timeval tv = {FORGET_DEADLINE_S, 0};
    if (rc && deadline && evtimer_add(deadline, &tv) == 0)
        event_base_dispatch(f.base);
    rconn_free(rc);
    if (deadline)
        event_free(deadline);
    cmd_free(&f.call);
    keys_free(&f.keys);
    event_base_free(f.base);
    return f.rc;
}
