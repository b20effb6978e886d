/* test_entry.c — an events entry kept to its stream's shard, as a Redis
 * Cluster needs (entry_keep_to_shard): the customer of another shard
 * rejected with its reason, an anonymous id of another shard not merged. */
#include "entry.h"
#include "harness.h"
#include "shard.h"

#include <stdio.h>
#include <string.h>

#define SHARDS 16

/* An id of shard K: PREFIX and a number. */
static void id_of(unsigned k, const char *prefix, char *out, size_t len)
{
    for (int i = 0;; i++) {
        snprintf(out, len, "%s%d", prefix, i);
        if (shard_of(out, SHARDS) == k)
            return;
    }
}

/* E loaded from the events entry 1-0 with MESSAGE, as read from the
 * stream of shard K. */
static void load(struct entry *e, const char *message, unsigned k)
{
    char idtext[] = "1-0", nametext[] = "message";
    redisReply id = {.type = REDIS_REPLY_STRING, .str = idtext, .len = 3};
    redisReply name = {.type = REDIS_REPLY_STRING, .str = nametext, .len = 7};
    redisReply value = {.type = REDIS_REPLY_STRING, .str = (char *)message, .len = strlen(message)};
    redisReply *fields_el[] = {&name, &value};
    redisReply fields = {.type = REDIS_REPLY_ARRAY, .elements = 2, .element = fields_el};
    redisReply *top_el[] = {&id, &fields};
    redisReply top = {.type = REDIS_REPLY_ARRAY, .elements = 2, .element = top_el};
    memset(e, 0, sizeof *e);
    entry_load(e, &top, false, 1796245980000);
    e->stream = "nudged:events:{k}";
    e->stream_index = k;
}

static void test_keep_to_shard(void)
{
    char user[32], anon_same[32], anon_other[32], msg[256];
    id_of(3, "u", user, sizeof user);
    id_of(3, "a", anon_same, sizeof anon_same);
    id_of(7, "a", anon_other, sizeof anon_other);
    struct entry e;
    const char *dropped = "not set";
    snprintf(msg, sizeof msg, "{\"type\":\"track\",\"event\":\"X\",\"userId\":\"%s\"}", user);

    load(&e, msg, 3);
    entry_keep_to_shard(&e, SHARDS, &dropped);
    CHECK(e.valid && dropped == NULL, "an event in its customer's shard's stream stays (%s)", e.err);
    entry_clear(&e);

    load(&e, msg, 5);
    entry_keep_to_shard(&e, SHARDS, &dropped);
    CHECK(!e.valid && strstr(e.err, "belongs to shard 3") && strstr(e.err, "nudged shard ID"),
          "an event in another shard's stream is rejected, and says why: %s", e.err);
    entry_clear(&e);

    snprintf(msg, sizeof msg, "{\"type\":\"identify\",\"userId\":\"%s\",\"anonymousId\":\"%s\"}", user, anon_other);
    load(&e, msg, 3);
    entry_keep_to_shard(&e, SHARDS, &dropped);
    CHECK(e.valid && harness_streq(dropped, anon_other) && e.m.merge_from == NULL,
          "an anonymous id of another shard is not merged, and is named: %s", harness_show(dropped));
    entry_clear(&e);

    snprintf(msg, sizeof msg, "{\"type\":\"identify\",\"userId\":\"%s\",\"anonymousId\":\"%s\"}", user, anon_same);
    load(&e, msg, 3);
    entry_keep_to_shard(&e, SHARDS, &dropped);
    CHECK(e.valid && dropped == NULL && harness_streq(e.m.merge_from, anon_same),
          "an anonymous id of the same shard is merged");
    entry_clear(&e);

    load(&e, "{not json", 3);
    entry_keep_to_shard(&e, SHARDS, &dropped);
    CHECK(!e.valid && dropped == NULL, "an invalid entry stays invalid, with its own reason: %s", e.err);
    entry_clear(&e);
}

int main(void)
{
    test_keep_to_shard();
    return harness_summary("test_entry");
}
