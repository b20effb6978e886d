/* rarena.c — a Redis connection's replies built in one arena (see rarena.h).
 *
 * hiredis calls the reader's functions once per part of a reply, each with
 * its read task (the task's privdata is the reader's, here the arena), and
 * freeObject once, on the root, after the callback. The root carries its
 * arena so that freeObject, given only the reply, knows what to reset.
 */
#include "rarena.h"
#include "util.h"

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define REDZONE 16 /* left poisoned after each allocation: overruns are caught */
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define REDZONE 0
#endif

#define CHUNK_SIZE (64 * 1024)
#define KEEP_CHUNKS 4 /* standard chunks kept for the next reply; the rest are freed */

struct chunk {
    struct chunk *next;
    size_t size, used;
    _Alignas(max_align_t) unsigned char data[];
};

struct rarena {
    struct chunk *head, *cur;
    redisReplyObjectFunctions fn;
};

struct root {
    struct rarena *a;
    redisReply r;
};

static struct chunk *chunk_new(size_t size)
{
    struct chunk *c = util_xmalloc(sizeof *c + size);
    c->next = NULL;
    c->size = size;
    c->used = 0;
    ASAN_POISON_MEMORY_REGION(c->data, size);
    return c;
}

/* N bytes, aligned for any object, from the first chunk with room. */
static void *alloc(struct rarena *a, size_t n)
{
    const size_t align = _Alignof(max_align_t);
    size_t need = (n + REDZONE + align - 1) & ~(align - 1);
    struct chunk *c = a->cur;
    while (c->used + need > c->size) {
        if (c->next == NULL)
            c->next = chunk_new(need > CHUNK_SIZE ? need : CHUNK_SIZE);
        c = c->next;
    }
    a->cur = c;
    void *p = c->data + c->used;
    c->used += need;
    ASAN_UNPOISON_MEMORY_REGION(p, n);
    return p;
}

/* The reply is done with: its memory is for the next one. */
static void reset(struct rarena *a)
{
    size_t kept = 0;
    struct chunk **link = &a->head;
    while (*link) {
        struct chunk *c = *link;
        if (c == a->head || (kept < KEEP_CHUNKS && c->size == CHUNK_SIZE)) {
            ASAN_POISON_MEMORY_REGION(c->data, c->size);
            c->used = 0;
            kept++;
            link = &c->next;
        } else {
            *link = c->next;
            ASAN_UNPOISON_MEMORY_REGION(c->data, c->size);
            free(c);
        }
    }
    a->cur = a->head;
}

/* A reply object of TYPE, hung into its parent array unless it is the root. */
static redisReply *object(const redisReadTask *task, int type)
{
    struct rarena *a = task->privdata;
    redisReply *r;
    if (task->parent == NULL) {
        struct root *root = alloc(a, sizeof *root);
        root->a = a;
        r = &root->r;
    } else {
        r = alloc(a, sizeof *r);
        redisReply *parent = task->parent->obj;
        parent->element[task->idx] = r;
    }
    memset(r, 0, sizeof *r);
    r->type = type;
    return r;
}

static void *create_string(const redisReadTask *task, char *str, size_t len)
{
    redisReply *r = object(task, task->type);
    r->str = alloc(task->privdata, len + 1);
    memcpy(r->str, str, len);
    r->str[len] = '\0';
    r->len = len;
    return r;
}

static void *create_array(const redisReadTask *task, int elements)
{
    redisReply *r = object(task, REDIS_REPLY_ARRAY);
    if (elements > 0) {
        r->elements = (size_t)elements;
        r->element = alloc(task->privdata, r->elements * sizeof *r->element);
        memset(r->element, 0, r->elements * sizeof *r->element);
    }
    return r;
}

static void *create_integer(const redisReadTask *task, long long value)
{
    redisReply *r = object(task, REDIS_REPLY_INTEGER);
    r->integer = value;
    return r;
}

static void *create_nil(const redisReadTask *task)
{
    return object(task, REDIS_REPLY_NIL);
}

static void free_reply(void *reply)
{
    if (reply == NULL)
        return;
    struct root *root = (struct root *)((char *)reply - offsetof(struct root, r));
    reset(root->a);
}

struct rarena *rarena_new(void)
{
    struct rarena *a = util_xcalloc(1, sizeof *a);
    a->head = a->cur = chunk_new(CHUNK_SIZE);
    a->fn = (redisReplyObjectFunctions){create_string, create_array, create_integer, create_nil, free_reply};
    return a;
}

void rarena_free(struct rarena *a)
{
    if (a == NULL)
        return;
    while (a->head) {
        struct chunk *next = a->head->next;
        ASAN_UNPOISON_MEMORY_REGION(a->head->data, a->head->size);
        free(a->head);
        a->head = next;
    }
    free(a);
}

void rarena_attach(struct rarena *a, redisReader *reader)
{
    reader->fn = &a->fn;
    reader->privdata = a;
}
