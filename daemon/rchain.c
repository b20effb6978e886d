/* rchain.c — commands sent one after the other (see rchain.h). */
#include "rchain.h"
#include "util.h"

#include <stdlib.h>

struct rwire {
    char *text;
    size_t len;
};

struct rchain {
    struct rconn *rc;
    redisCallbackFn *fn;
    void *priv;
    struct rwire *cmds;
    size_t n, cap, next;
};

struct rchain *rchain_new(struct rconn *rc, redisCallbackFn *fn, void *priv)
{
    struct rchain *ch = util_xcalloc(1, sizeof *ch);
    ch->rc = rc;
    ch->fn = fn;
    ch->priv = priv;
    return ch;
}

void rchain_add(struct rchain *ch, struct cmd *c)
{
    if (ch->n == ch->cap) {
        ch->cap = ch->cap ? 2 * ch->cap : 4;
        ch->cmds = util_xrealloc(ch->cmds, ch->cap * sizeof *ch->cmds);
    }
    struct rwire *w = &ch->cmds[ch->n++];
    w->text = cmd_wire_copy(c, &w->len);
}

void rchain_addv(struct rchain *ch, const char *const *argv, size_t n)
{
    struct cmd c;
    cmd_init(&c);
    cmd_addsv(&c, argv, n);
    rchain_add(ch, &c);
    cmd_free(&c);
}

static void chain_free(struct rchain *ch)
{
    for (size_t i = 0; i < ch->n; i++)
        free(ch->cmds[i].text);
    free(ch->cmds);
    free(ch);
}

static int send_next(struct rchain *ch);

static void on_step(redisAsyncContext *ac, void *r, void *priv)
{
    struct rchain *ch = priv;
    redisReply *reply = r;
    if (reply && reply->type != REDIS_REPLY_ERROR && ch->next < ch->n) {
        if (send_next(ch) == 0)
            return;
        reply = NULL; /* the connection went down between the steps */
    }
    ch->fn(ac, reply, ch->priv);
    chain_free(ch);
}

static int send_next(struct rchain *ch)
{
    const struct rwire *w = &ch->cmds[ch->next++];
    return rconn_send_wire(ch->rc, on_step, ch, w->text, w->len);
}

int rchain_send(struct rchain *ch)
{
    if (ch->n == 0 || send_next(ch) != 0) {
        chain_free(ch);
        return -1;
    }
    return 0;
}
