/* baseline.c — the limit nudged is measured against (`make bench`): a bare
 * consumer that reads the stream in batches with XREADGROUP, parses each
 * message with jansson and XACKs the batch, nothing else.
 * Usage: baseline PORT STREAM GROUP BATCH  (prints "events N seconds S")
 */
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: baseline PORT STREAM GROUP BATCH\n");
        return 2;
    }
    redisContext *c = redisConnect("127.0.0.1", atoi(argv[1]));
    if (c == NULL || c->err)
        return 1;
    const char *stream = argv[2], *group = argv[3], *batch = argv[4];
    freeReplyObject(redisCommand(c, "XGROUP CREATE %s %s 0 MKSTREAM", stream, group));
    unsigned long total = 0;
    double start = now_s();
    for (;;) {
        redisReply *r = redisCommand(c, "XREADGROUP GROUP %s base COUNT %s STREAMS %s >", group, batch, stream);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
            freeReplyObject(r);
            break;
        }
        redisReply *entries = r->element[0]->element[1];
        const char **argv2 = malloc((entries->elements + 3) * sizeof *argv2);
        argv2[0] = "XACK";
        argv2[1] = stream;
        argv2[2] = group;
        for (size_t i = 0; i < entries->elements; i++) {
            redisReply *e = entries->element[i], *f = e->element[1];
            for (size_t k = 0; k + 1 < f->elements; k += 2)
                if (strcmp(f->element[k]->str, "message") == 0) {
                    json_t *j = json_loadb(f->element[k + 1]->str, f->element[k + 1]->len, 0, NULL);
                    json_decref(j);
                }
            argv2[i + 3] = e->element[0]->str;
        }
        freeReplyObject(redisCommandArgv(c, (int)entries->elements + 3, argv2, NULL));
        total += entries->elements;
        free(argv2);
        freeReplyObject(r);
    }
    printf("events %lu seconds %.3f\n", total, now_s() - start);
    redisFree(c);
    return 0;
}
