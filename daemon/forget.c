/* forget.c — `nudged forget ID`: the erase script, once (oneshot.h). */
#include "forget.h"
#include "cmd.h"
#include "keys.h"
#include "log.h"
#include "message.h"
#include "oneshot.h"
#include "profile.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

#define FORGET_DEADLINE_S 10

struct forget {
    const char *id;
    int rc;
};

static void on_reply(const redisReply *reply, void *data)
{
    struct forget *f = data;
    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3) {
        printf("forgot \"%s\": %lld keys, %lld scheduled items, %lld merged anonymous ids\n", f->id,
               reply->element[0]->integer, reply->element[1]->integer, reply->element[2]->integer);
        f->rc = 0;
    } else if (reply) {
        fprintf(stderr, "nudged: forget failed: %s\n", reply->type == REDIS_REPLY_ERROR ? reply->str : "no reply");
    } else {
        fprintf(stderr, "nudged: no answer from Redis within %d s; nothing was erased for sure\n", FORGET_DEADLINE_S);
    }
}

int forget_run(const struct config *cfg, const char *id)
{
    if (id[0] == '\0' || strlen(id) > MESSAGE_ID_MAX) {
        fprintf(stderr, "nudged: a customer id is 1 to %d bytes\n", MESSAGE_ID_MAX);
        return 2;
    }
    struct forget f = {id, 3};
    struct keys keys;
    struct cmd call;
    keys_init(&keys, cfg);
    cmd_init(&call);
    profile_forget_cmd(&call, NULL, &keys, id);
    oneshot_run(cfg, "forget", &call, FORGET_DEADLINE_S, false, on_reply, &f);
    cmd_free(&call);
    keys_free(&keys);
    return f.rc;
}
