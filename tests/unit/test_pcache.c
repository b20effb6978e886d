/* test_pcache.c — the profiles in memory: lookups, the bound by bytes,
 * pins, drops and the message hashes applied. */
#include "harness.h"
#include "pcache.h"

#include <stdio.h>
#include <string.h>

/* A cached profile of ID with one field of LEN bytes, unpinned. */
static struct pcache_profile *put(struct pcache *c, const char *id, size_t len)
{
    struct pcache_profile *p = pcache_add(c, id);
    char v[4096];
    memset(v, 'x', len);
    v[len] = '\0';
    json_object_set_new(p->fields, "t:note", json_string(v));
    pcache_resize(c, p);
    pcache_unpin(c, p);
    return p;
}

static void test_lookup_and_counts(void)
{
    struct pcache *c = pcache_new(1 << 20);
    CHECK(pcache_find(c, "ann") == NULL, "a miss before anything is added");
    struct pcache_profile *p = put(c, "ann", 10);
    CHECK(pcache_find(c, "ann") == p, "a hit once added");
    CHECK(pcache_find(c, "bob") == NULL, "another id misses");
    for (int i = 0; i < 500; i++) { /* the table grows under them */
        char id[32];
        snprintf(id, sizeof id, "customer-%d", i);
        put(c, id, 1);
    }
    CHECK(pcache_find(c, "customer-17") != NULL && pcache_find(c, "ann") == p, "found after the table grew");
    struct pcache_stats st = pcache_stats(c);
    CHECK(st.hits == 3 && st.misses == 2, "hits %llu, misses %llu", (unsigned long long)st.hits,
          (unsigned long long)st.misses);
    CHECK(st.profiles == 501 && st.bytes > 501 * 256, "501 profiles of %zu bytes", st.bytes);
    pcache_free(c);
}

/* The least recently used profiles go first once the bytes pass the bound;
 * a pinned one never goes under its user, and a dropped one stays valid
 * until unpinned. */
static void test_bound_and_pins(void)
{
    struct pcache *c = pcache_new(4 * 1024);
    put(c, "a", 1000);
    put(c, "b", 1000);
    put(c, "c", 1000);
    CHECK(pcache_find(c, "a") != NULL, "a used again: b is now the oldest");
    struct pcache_profile *d = pcache_add(c, "d"); /* pinned */
    json_object_set_new(d->fields, "t:note", json_string("d"));
    pcache_resize(c, d);
    put(c, "e", 1000);
    struct pcache_stats st = pcache_stats(c);
    CHECK(st.bytes <= 4 * 1024, "within the bound: %zu bytes", st.bytes);
    CHECK(pcache_find(c, "b") == NULL && pcache_find(c, "e") != NULL, "the least recently used went first");
    CHECK(pcache_find(c, "d") == d, "the pinned one stayed");
    pcache_drop(c, d, true);
    CHECK(pcache_find(c, "d") == NULL, "dropped: the next lookup misses");
    CHECK(strcmp(json_string_value(json_object_get(d->fields, "t:note")), "d") == 0, "still valid while pinned");
    pcache_unpin(c, d); /* freed now (ASan would see a leak or a use after free) */
    st = pcache_stats(c);
    CHECK(st.stale == 1 && st.evictions >= 1, "stale %llu, evictions %llu", (unsigned long long)st.stale,
          (unsigned long long)st.evictions);
    struct pcache *none = pcache_new(0);
    put(none, "x", 1);
    CHECK(pcache_find(none, "x") == NULL, "cache_size 0 keeps only what is pinned");
    pcache_free(none);
    pcache_free(c);
}

static void test_seen(void)
{
    struct pcache *c = pcache_new(1 << 20);
    struct pcache_profile *p = pcache_add(c, "ann");
    unsigned char h[HASHID_DEDUP_LEN];
    bool all = true;
    for (int i = 0; i < 40; i++) {
        hashid_message(i % 2 ? "odd" : "even", h);
        if (i < 2)
            CHECK(!pcache_seen(p, h), "message %d is new", i);
        else
            all &= pcache_seen(p, h);
        if (i < 2)
            pcache_see(p, h);
    }
    CHECK(all, "applied messages are seen again");
    hashid_message("other", h);
    CHECK(!pcache_seen(p, h), "another message is not");
    for (int i = 0; i < 1100; i++) { /* past the most a profile keeps: it leaves at its unpin */
        char mid[32];
        snprintf(mid, sizeof mid, "m-%d", i);
        hashid_message(mid, h);
        pcache_see(p, h);
    }
    pcache_unpin(c, p);
    CHECK(pcache_find(c, "ann") == NULL, "a profile with too many hashes is read again next time");
    pcache_free(c);
}

int main(void)
{
    test_lookup_and_counts();
    test_bound_and_pins();
    test_seen();
    return harness_summary("test_pcache");
}
