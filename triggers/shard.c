/* shard.c — a customer's shard: the rule of SPEC 8, in one place. */
#include "shard.h"
#include "util.h"

unsigned shard_of(const char *id, unsigned shards)
{
    return shards > 1 ? util_fnv1a32(id) % shards : 0;
}

bool shard_is_share(unsigned k, unsigned index, unsigned n)
{
    return n > 0 && k % n == index;
}

unsigned shard_run(const bool *owned, unsigned shards, unsigned from, bool one_each, unsigned *n)
{
    unsigned end = from;
    *n = 0;
    while (end < shards && !(one_each && *n == 1))
        *n += owned[end++];
    return end;
}
