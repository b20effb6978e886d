/* test_rcluster.c — the pure parts of the Redis Cluster client
 * (rcluster.h): a key's slot as the Cluster specification computes it,
 * which argument routes a command, redirections and the slot map read. */
#include "harness.h"
#include "rcluster.h"

#include <hiredis/hiredis.h>
#include <string.h>

static unsigned slot(const char *key)
{
    return rcluster_slot(key, strlen(key));
}

static void test_slots(void)
{
    /* The specification's check value: CRC16/XMODEM("123456789") = 0x31C3. */
    CHECK(slot("123456789") == 0x31C3, "the CRC16 check value: got %u", slot("123456789"));
    CHECK(slot("foo") == 12182 && slot("bar") == 5061, "foo %u, bar %u (as CLUSTER KEYSLOT)", slot("foo"), slot("bar"));
    CHECK(slot("{user1000}.following") == slot("{user1000}.followers") &&
              slot("{user1000}.following") == slot("user1000"),
          "a hash tag decides the slot");
    CHECK(slot("foo{}{bar}") != slot("bar") && slot("foo{}{bar}") == rcluster_slot("foo{}{bar}", 10),
          "an empty tag: the whole key");
    CHECK(slot("foo{{bar}}zap") == slot("{bar"), "the tag is up to the first } after the first {");
    CHECK(slot("foo{bar}{zap}") == slot("bar"), "the first tag only");
    CHECK(slot("nudged:events:{3}") == slot("3") && slot("nudged:lease:{3}") == slot("3"),
          "a shard's stream and lease share its slot");
    CHECK(slot("foo{") == slot("foo{") && slot("{") < RCLUSTER_SLOTS, "an open tag: the whole key");
}

struct key_case {
    const char *name;
    int argc;
    const char *argv[12];
    int want;
};

static void test_key_index(void)
{
    static const struct key_case cases[] = {
        {"XADD names its stream first", 5, {"XADD", "s", "*", "message", "{}"}, 1},
        {"lower case is the same", 2, {"hgetall", "p"}, 1},
        {"EVALSHA: its first key", 5, {"EVALSHA", "abc", "2", "k1", "k2"}, 3},
        {"EVALSHA without keys: any master", 3, {"EVALSHA", "abc", "0"}, -1},
        {"XREADGROUP: the first stream", 9, {"XREADGROUP", "GROUP", "g", "c", "COUNT", "10", "STREAMS", "s", ">"}, 7},
        {"XGROUP CREATE: its stream", 6, {"XGROUP", "CREATE", "s", "g", "0", "MKSTREAM"}, 2},
        {"XINFO GROUPS: its stream", 3, {"XINFO", "GROUPS", "s"}, 2},
        {"SCRIPT LOAD: any master", 3, {"SCRIPT", "LOAD", "return 1"}, -1},
        {"PING: any master", 1, {"PING"}, -1},
        {"CLUSTER SLOTS: any master", 2, {"CLUSTER", "SLOTS"}, -1},
        {"MULTI is not routed", 1, {"MULTI"}, -2},
        {"EXEC is not routed", 1, {"exec"}, -2},
        {"WATCH is not routed", 2, {"WATCH", "k"}, -2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t lens[12];
        for (int a = 0; a < cases[i].argc; a++)
            lens[a] = strlen(cases[i].argv[a]);
        int got = rcluster_key_index(cases[i].argc, cases[i].argv, lens);
        CHECK(got == cases[i].want, "%s: got %d, want %d", cases[i].name, got, cases[i].want);
    }
}

static void test_redirects(void)
{
    bool ask;
    unsigned s;
    char addr[RCLUSTER_ADDR_MAX];
    CHECK(rcluster_parse_redirect("MOVED 3999 127.0.0.1:6381", "10.0.0.1", &ask, &s, addr, sizeof addr) == 0 && !ask &&
              s == 3999,
          "MOVED");
    CHECK_STR(addr, "127.0.0.1:6381", "MOVED's address");
    CHECK(rcluster_parse_redirect("ASK 12 10.1.2.3:7000", "x", &ask, &s, addr, sizeof addr) == 0 && ask && s == 12,
          "ASK");
    CHECK_STR(addr, "10.1.2.3:7000", "ASK's address");
    CHECK(rcluster_parse_redirect("MOVED 5 :7001", "10.0.0.9", &ask, &s, addr, sizeof addr) == 0, "no host");
    CHECK_STR(addr, "10.0.0.9:7001", "no host: the node that answered");
    CHECK(rcluster_parse_redirect("MOVED 5 ::1:7001", "x", &ask, &s, addr, sizeof addr) == 0, "IPv6");
    CHECK_STR(addr, "::1:7001", "IPv6: the port after the last colon");
    static const char *const bad[] = {"ERR wrong",
                                      "MOVED",
                                      "MOVED x 1.2.3.4:5",
                                      "MOVED 16384 1.2.3.4:5",
                                      "MOVED 1 1.2.3.4",
                                      "MOVED 1 1.2.3.4:0",
                                      "MOVED 1 1.2.3.4:99999",
                                      "ASK 1 1.2.3.4:12x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(rcluster_parse_redirect(bad[i], "h", &ask, &s, addr, sizeof addr) == -1, "refused: %s", bad[i]);
}

/* A reply as hiredis builds it from the bytes Redis sends. */
static redisReply *reply_of(const char *resp)
{
    redisReader *r = redisReaderCreate();
    void *out = NULL;
    redisReaderFeed(r, resp, strlen(resp));
    if (redisReaderGetReply(r, &out) != REDIS_OK)
        out = NULL;
    redisReaderFree(r);
    return out;
}

static void test_slot_map(void)
{
    /* Three masters, each with a replica, as CLUSTER SLOTS answers; the
     * third names no host ("" and then "?" in Redis 7). */
    redisReply *r = reply_of("*3\r\n"
                             "*4\r\n:0\r\n:5460\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$2\r\nid\r\n"
                             "*3\r\n$9\r\n127.0.0.1\r\n:7003\r\n$2\r\nid\r\n"
                             "*3\r\n:5461\r\n:10922\r\n*2\r\n$9\r\n127.0.0.1\r\n:7001\r\n"
                             "*3\r\n:10923\r\n:16383\r\n*2\r\n$1\r\n?\r\n:7002\r\n");
    struct rcluster_range ranges[4];
    const char *why;
    CHECK(r != NULL, "the reply is built");
    int n = r ? rcluster_parse_slots(r, "10.0.0.5", ranges, 4, &why) : -1;
    CHECK(n == 3, "three ranges: got %d", n);
    if (n == 3) {
        CHECK(ranges[0].from == 0 && ranges[0].to == 5460 && ranges[2].from == 10923 && ranges[2].to == 16383,
              "the ranges' slots");
        CHECK_STR(ranges[0].addr, "127.0.0.1:7000", "the first master, not its replica");
        CHECK_STR(ranges[2].addr, "10.0.0.5:7002", "an unknown host: the node asked");
    }
    freeReplyObject(r);
    static const char *const bad[] = {
        "-ERR This instance has cluster support disabled\r\n",
        "*1\r\n*3\r\n:10\r\n:5\r\n*2\r\n$1\r\nh\r\n:1\r\n",    /* from above to */
        "*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\nh\r\n:1\r\n", /* past the last slot */
        "*1\r\n*3\r\n:0\r\n:10\r\n*2\r\n$1\r\nh\r\n:0\r\n",    /* port 0 */
        "*1\r\n*2\r\n:0\r\n:10\r\n",                           /* no master */
        "*1\r\n*3\r\n:0\r\n:10\r\n*2\r\n:1\r\n:1\r\n",         /* a host that is no string */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = reply_of(bad[i]);
        CHECK(r && rcluster_parse_slots(r, "h", ranges, 4, &why) == -1, "refused: case %zu", i);
        freeReplyObject(r);
    }
}

static void test_seeds(void)
{
    const char *why = NULL;
    CHECK(rcluster_seeds_valid("127.0.0.1:7000", &why), "one address");
    CHECK(rcluster_seeds_valid(" a:1 b:2,c:3 ", &why), "spaces and commas between");
    CHECK(!rcluster_seeds_valid("", &why) && strstr(why, "no address"), "none");
    CHECK(!rcluster_seeds_valid("a:1 b", &why) && strstr(why, "host:port"), "one without a port");
    CHECK(!rcluster_seeds_valid("a:70000", &why) && strstr(why, "65535"), "a port past 65535");
    CHECK(!rcluster_seeds_valid(":7000", &why), "no host");
    CHECK(!rcluster_seeds_valid("::1:7000", &why) && strstr(why, "IPv6"), "IPv6, which hiredis 0.14 cannot reach");
}

int main(void)
{
    test_slots();
    test_key_index();
    test_redirects();
    test_slot_map();
    test_seeds();
    return harness_summary("test_rcluster");
}
