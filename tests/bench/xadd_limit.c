/* xadd_limit.c — the limit the collector is measured against in
 * make bench-collector: the same messages XADDed straight into Redis, BATCH
 * of them pipelined a round trip (as the collector writes a batch request)
 * on one connection, until TOTAL messages are in. Prints messages a second.
 *
 *   xadd_limit HOST PORT STREAM MESSAGE_FILE TOTAL BATCH
 */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: xadd_limit HOST PORT STREAM MESSAGE_FILE TOTAL BATCH\n");
        return 2;
    }
    FILE *f = fopen(argv[4], "rb");
    if (!f)
        return 2;
    char msg[65536];
    size_t len = fread(msg, 1, sizeof msg - 1, f);
    fclose(f);
    long total = atol(argv[5]), batch = atol(argv[6]);
    redisContext *c = redisConnect(argv[1], atoi(argv[2]));
    if (c == NULL || c->err || batch < 1)
        return 3;
    const char *av[] = {"XADD", argv[3], "*", "message", msg};
    size_t al[] = {4, strlen(argv[3]), 1, 7, len};
    double t0 = now_s();
    for (long done = 0; done < total; done += batch) {
        for (long i = 0; i < batch; i++)
            redisAppendCommandArgv(c, 5, av, al);
        for (long i = 0; i < batch; i++) {
            redisReply *r;
            if (redisGetReply(c, (void **)&r) != REDIS_OK || r->type != REDIS_REPLY_STRING)
                return 3;
            freeReplyObject(r);
        }
    }
    printf("%.0f\n", (double)total / (now_s() - t0));
    redisFree(c);
    return 0;
}
