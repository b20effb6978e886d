/* sentry.c — a stream entry as hiredis gives it (see sentry.h). */
#include "sentry.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* A live entry, [id, [field, value, ...]]; a pending entry that was
 * trimmed comes back as [id, nil]. */
bool sentry_live(const redisReply *e)
{
    return e->type == REDIS_REPLY_ARRAY && e->elements == 2 && e->element[0]->type == REDIS_REPLY_STRING &&
           e->element[1]->type == REDIS_REPLY_ARRAY;
}

/* Entry ids compared: milliseconds, then sequence. */
int sentry_id_cmp(const char *a, const char *b)
{
    char *end;
    unsigned long long ams = strtoull(a, &end, 10), aseq = *end ? strtoull(end + 1, NULL, 10) : 0;
    unsigned long long bms = strtoull(b, &end, 10), bseq = *end ? strtoull(end + 1, NULL, 10) : 0;
    if (ams != bms)
        return ams < bms ? -1 : 1;
    return aseq < bseq ? -1 : aseq > bseq;
}

const char *sentry_id(const redisReply *e)
{
    return e->type == REDIS_REPLY_ARRAY && e->elements >= 1 && e->element[0]->type == REDIS_REPLY_STRING
               ? e->element[0]->str
               : NULL;
}

/* An id's two numbers. */
void sentry_id_parse(const char *id, uint64_t *ms, uint64_t *seq)
{
    char *end;
    *ms = strtoull(id, &end, 10);
    *seq = *end ? strtoull(end + 1, NULL, 10) : 0;
}

/* The last id of ENTRIES (live or trimmed), NULL when there is none. */
const char *sentry_last_id(const redisReply *entries)
{
    const char *last = NULL;
    for (size_t k = 0; k < entries->elements; k++)
        if (sentry_id(entries->element[k]))
            last = sentry_id(entries->element[k]);
    return last;
}

/* A copy of a live entry [id, [field, value, ...]] that outlives its
 * reply, in hiredis's own shape, so the owner reads it as any other: one
 * allocation (the replies, their element arrays, then the strings), freed
 * with free(). */
redisReply *sentry_copy(const redisReply *e)
{
    const redisReply *f = e->element[1];
    size_t nf = f->elements, bytes = (3 + nf) * sizeof(redisReply) + (2 + nf) * sizeof(redisReply *);
    bytes += e->element[0]->len + 1;
    for (size_t k = 0; k < nf; k++)
        bytes += (f->element[k]->type == REDIS_REPLY_STRING ? f->element[k]->len : 0) + 1;
    redisReply *r = util_xcalloc(1, bytes), *top = &r[0], *fields = &r[1], *strs = &r[2];
    redisReply **top_el = (redisReply **)&r[3 + nf], **field_el = top_el + 2;
    char *text = (char *)(field_el + nf);
    *top = (redisReply){.type = REDIS_REPLY_ARRAY, .elements = 2, .element = top_el};
    *fields = (redisReply){.type = REDIS_REPLY_ARRAY, .elements = nf, .element = field_el};
    top_el[0] = &strs[0];
    top_el[1] = fields;
    for (size_t k = 0; k <= nf; k++) {
        const redisReply *src = k == 0 ? e->element[0] : f->element[k - 1];
        size_t len = src->type == REDIS_REPLY_STRING ? src->len : 0;
        if (len)
            memcpy(text, src->str, len);
        text[len] = '\0';
        strs[k] = (redisReply){.type = REDIS_REPLY_STRING, .str = text, .len = len};
        if (k > 0)
            field_el[k - 1] = &strs[k];
        text += len + 1;
    }
    return top;
}
