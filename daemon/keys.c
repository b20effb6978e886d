/* keys.c — Redis key names in one place, so the layout is documented once. */
#include "keys.h"
#include "shard.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *join(const char *a, const char *b)
{
    char *s = NULL;
    if (asprintf(&s, "%s%s", a, b) < 0)
        util_fatal("out of memory");
    return s;
}

void keys_init(struct keys *k, const struct config *cfg)
{
    k->prefix = cfg->redis_prefix;
    k->group = cfg->redis_group;
    k->consumer = cfg->redis_consumer;
    k->events = join(cfg->redis_prefix, cfg->redis_stream);
    k->rejected = join(cfg->redis_prefix, "rejected");
    k->dead = join(cfg->redis_prefix, "dead");
    if (asprintf(&k->redriving, "{%s}:redriving:", k->dead) < 0)
        util_fatal("out of memory");
    k->layout = join(cfg->redis_prefix, "layout");
    k->measures = join(cfg->redis_prefix, "measures:");
    k->shards = (unsigned)cfg->redis_shards;
    k->nstreams = 1 + k->shards;
    k->streams = util_xcalloc(k->nstreams, sizeof *k->streams);
    k->streams[0] = util_xstrdup(k->events);
    k->leases = util_xcalloc(k->shards, sizeof *k->leases);
    k->actions = util_xcalloc(k->shards, sizeof *k->actions);
    k->schedule = util_xcalloc(k->shards, sizeof *k->schedule);
    k->timers = util_xcalloc(k->shards, sizeof *k->timers);
    k->tally = util_xcalloc(k->shards, sizeof *k->tally);
    k->folds = util_xcalloc(k->shards, sizeof *k->folds);
    k->buyers = util_xcalloc(k->shards, sizeof *k->buyers);
    for (unsigned i = 0; i < k->shards; i++)
        if (asprintf(&k->streams[i + 1], "%s:{%u}", k->events, i) < 0 ||
            asprintf(&k->leases[i], "%slease:{%u}", cfg->redis_prefix, i) < 0 ||
            asprintf(&k->actions[i], "%sactions:{%u}", cfg->redis_prefix, i) < 0 ||
            asprintf(&k->schedule[i], "%sschedule:{%u}", cfg->redis_prefix, i) < 0 ||
            asprintf(&k->timers[i], "%stimers:{%u}", cfg->redis_prefix, i) < 0 ||
            asprintf(&k->tally[i], "%stally:{%u}", cfg->redis_prefix, i) < 0 ||
            asprintf(&k->folds[i], "%sfolds:{%u}", cfg->redis_prefix, i) < 0 ||
            asprintf(&k->buyers[i], "%sbuyers:{%u}", cfg->redis_prefix, i) < 0)
            util_fatal("out of memory");
    k->processes = join(cfg->redis_prefix, "processes");
}

const char *keys_shard_stream(const struct keys *k, unsigned shard)
{
    return k->streams[1 + shard];
}

unsigned keys_shard(const struct keys *k, const char *id)
{
    return shard_of(id, k->shards);
}

void keys_free(struct keys *k)
{
    free(k->events);
    free(k->rejected);
    free(k->dead);
    free(k->redriving);
    free(k->layout);
    free(k->measures);
    for (unsigned i = 0; i < k->nstreams; i++)
        free(k->streams[i]);
    for (unsigned i = 0; i < k->shards; i++) {
        free(k->leases[i]);
        free(k->actions[i]);
        free(k->schedule[i]);
        free(k->timers[i]);
        free(k->tally[i]);
        free(k->folds[i]);
        free(k->buyers[i]);
    }
    free(k->streams);
    free(k->leases);
    free(k->actions);
    free(k->schedule);
    free(k->timers);
    free(k->tally);
    free(k->folds);
    free(k->buyers);
    free(k->processes);
}

void keys_add_measures(struct cmd *c, const struct keys *k, unsigned shard, const char *trigger)
{
    char tag[24];
    snprintf(tag, sizeof tag, "{%u}:", shard);
    const char *parts[] = {k->measures, tag, trigger};
    cmd_addcat(c, parts, 3);
}

void keys_add_customer(struct cmd *c, const struct keys *k, const char *id, const char *kinds)
{
    /* "{k}:" by hand, once for all of KINDS: a commit names three keys a
     * customer, and a snprintf cost more than the rest of a key. */
    char tag[16], *p = tag + sizeof tag;
    unsigned n = keys_shard(k, id);
    *--p = '\0';
    *--p = ':';
    *--p = '}';
    do
        *--p = (char)('0' + n % 10);
    while ((n /= 10) > 0);
    *--p = '{';
    for (; *kinds; kinds++) {
        const char suffix[] = {':', *kinds, '\0'};
        const char *parts[] = {k->prefix, p, id, suffix};
        cmd_addcat(c, parts, 4);
    }
}

const char *keys_layout_mismatch(const struct config *cfg, const char *version, const char *shards, char *why,
                                 size_t len)
{
    char mine[24];
    snprintf(mine, sizeof mine, "%lld", (long long)cfg->redis_shards);
    if (version == NULL)
        version = "1";
    if (strcmp(version, KEYS_LAYOUT_VERSION) != 0)
        snprintf(why, len,
                 "Redis holds nudged data of layout %s under this prefix, and this version reads and writes only "
                 "layout %s (nothing is migrated): use another [redis] prefix or database, or empty this one",
                 version, KEYS_LAYOUT_VERSION);
    else if (shards == NULL || strcmp(shards, mine) != 0)
        snprintf(why, len,
                 "[redis] shards is %s, but the data under this prefix was written with %s shards; the number of "
                 "shards is fixed once data exists: set shards = %s",
                 mine, shards ? shards : "an unknown number of", shards ? shards : "the stored number");
    else
        return NULL;
    return why;
}
