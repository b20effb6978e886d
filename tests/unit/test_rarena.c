/* test_rarena.c — Redis replies built in one arena, reset between replies. */
#include "harness.h"
#include "rarena.h"
#include "util.h"

#include <hiredis/hiredis.h>

/* Feeds BYTES to READER; returns the reply it completes, or NULL. */
static redisReply *feed(redisReader *reader, const char *bytes, size_t len)
{
    void *reply = NULL;
    CHECK(redisReaderFeed(reader, bytes, len) == REDIS_OK, "arena: feed");
    CHECK(redisReaderGetReply(reader, &reply) == REDIS_OK, "arena: parse: %s", reader->errstr);
    return reply;
}

/* Replies built in the arena read as hiredis's own; a reply arriving in
 * pieces, one larger than a chunk, replies after a reset, and a reader
 * freed with a reply half read (LeakSanitizer and the poisoning under
 * AddressSanitizer check the memory). */
static void test_reply_arena(void)
{
    struct rarena *a = rarena_new();
    redisReader *reader = redisReaderCreate();
    rarena_attach(a, reader);
    const char nested[] = "*4\r\n$5\r\nhello\r\n:-42\r\n*2\r\n$-1\r\n+OK\r\n*0\r\n";
    CHECK(feed(reader, nested, 20) == NULL, "arena: half a reply is not a reply");
    redisReply *r = feed(reader, nested + 20, sizeof nested - 1 - 20);
    CHECK(r && r->type == REDIS_REPLY_ARRAY && r->elements == 4, "arena: the outer array");
    if (r && r->elements == 4) {
        CHECK(r->element[0]->type == REDIS_REPLY_STRING && r->element[0]->len == 5, "arena: a string");
        CHECK_STR(r->element[0]->str, "hello", "arena: its bytes");
        CHECK(r->element[1]->type == REDIS_REPLY_INTEGER && r->element[1]->integer == -42, "arena: an integer");
        CHECK(r->element[2]->elements == 2 && r->element[2]->element[0]->type == REDIS_REPLY_NIL &&
                  r->element[2]->element[1]->type == REDIS_REPLY_STATUS,
              "arena: nil and status inside an inner array");
        CHECK(r->element[3]->type == REDIS_REPLY_ARRAY && r->element[3]->elements == 0, "arena: an empty array");
    }
    reader->fn->freeObject(r);
    for (int round = 0; round < 3; round++) {
        /* 3,000 strings of 100 bytes: several chunks, then freed and reused */
        size_t n = 3000, cap = 16 + n * 120, len = 0;
        char *big = util_xmalloc(cap);
        len += (size_t)snprintf(big + len, cap - len, "*%zu\r\n", n);
        for (size_t i = 0; i < n; i++)
            len += (size_t)snprintf(big + len, cap - len, "$100\r\n%0100zu\r\n", i + (size_t)round);
        r = feed(reader, big, len);
        CHECK(r && r->elements == n, "arena: a large reply (round %d)", round);
        if (r && r->elements == n) {
            char want[101];
            snprintf(want, sizeof want, "%0100zu", n - 1 + (size_t)round);
            CHECK_STR(r->element[n - 1]->str, want, "arena: its last string");
        }
        reader->fn->freeObject(r);
        free(big);
    }
    r = feed(reader, "-ERR no\r\n", 9);
    CHECK(r && r->type == REDIS_REPLY_ERROR, "arena: an error reply");
    CHECK_STR(r ? r->str : "", "ERR no", "arena: its text");
    reader->fn->freeObject(r);
    CHECK(feed(reader, "*2\r\n$1\r\na\r\n", 11) == NULL, "arena: a reply cut short");
    redisReaderFree(reader); /* frees the half-read reply */
    rarena_free(a);
}

int main(void)
{
    test_reply_arena();
    return harness_summary("test_rarena");
}
