/* baseline.c — the limit nudged is measured against (`make bench`): a bare
 * consumer that reads the streams (the shards', as nudged does) in batches
 * with one XREADGROUP over all of them, parses each message with jansson
 * and XACKs each stream's part of the batch, nothing else.
 * Usage: baseline PORT GROUP BATCH STREAM...  (prints "events N seconds S")
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

/* Parses each message of one stream's part [name, entries] and acks them. */
static size_t consume(redisContext *c, const char *group, redisReply *part)
{
    redisReply *entries = part->element[1];
    const char **argv = malloc((entries->elements + 3) * sizeof *argv);
    argv[0] = "XACK";
    argv[1] = part->element[0]->str;
    argv[2] = group;
    for (size_t i = 0; i < entries->elements; i++) {
        redisReply *e = entries->element[i], *f = e->element[1];
        for (size_t k = 0; k + 1 < f->elements; k += 2)
            if (strcmp(f->element[k]->str, "message") == 0) {
                json_t *j = json_loadb(f->element[k + 1]->str, f->element[k + 1]->len, 0, NULL);
                json_decref(j);
            }
        argv[i + 3] = e->element[0]->str;
    }
    freeReplyObject(redisCommandArgv(c, (int)entries->elements + 3, argv, NULL));
    free(argv);
    return entries->elements;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: baseline PORT GROUP BATCH STREAM...\n");
        return 2;
    }
    redisContext *c = redisConnect("127.0.0.1", atoi(argv[1]));
    if (c == NULL || c->err)
        return 1;
    const char *group = argv[2], *batch = argv[3];
    int nstreams = argc - 4;
    const char **read = malloc((size_t)(7 + 2 * nstreams) * sizeof *read);
    const char *head[] = {"XREADGROUP", "GROUP", group, "base", "COUNT", batch, "STREAMS"};
    for (int i = 0; i < 7; i++)
        read[i] = head[i];
    for (int i = 0; i < nstreams; i++) {
        freeReplyObject(redisCommand(c, "XGROUP CREATE %s %s 0 MKSTREAM", argv[4 + i], group));
        read[7 + i] = argv[4 + i];
        read[7 + nstreams + i] = ">";
    }
    unsigned long total = 0;
    double start = now_s();
    for (;;) {
        redisReply *r = redisCommandArgv(c, 7 + 2 * nstreams, read, NULL);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
            freeReplyObject(r);
            break;
        }
        for (size_t k = 0; k < r->elements; k++)
            total += consume(c, group, r->element[k]);
        freeReplyObject(r);
    }
    printf("events %lu seconds %.3f\n", total, now_s() - start);
    free(read);
    redisFree(c);
    return 0;
}
