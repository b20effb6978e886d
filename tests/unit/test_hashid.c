/* test_hashid.c — de-duplication hashes and webhook-ids: stable, separated, spread. */
#include "harness.h"
#include "hashid.h"

#include <openssl/evp.h>
#include <string.h>

static void test_ids(void)
{
    char a[HASHID_DELIVERY_LEN], b[HASHID_DELIVERY_LEN], c[HASHID_DELIVERY_LEN];
    EVP_MD *sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    hashid_delivery(sha256, "cart", "m1", 0, a);
    hashid_delivery(NULL, "cart", "m1", 0, b); /* fetched on the call: the same id */
    hashid_delivery(sha256, "cart", "m1", 1, c);
    CHECK(strcmp(a, b) == 0 && strncmp(a, "msg_", 4) == 0 && strlen(a) == 28, "delivery id stable: %s / %s", a, b);
    CHECK(strcmp(a, c) != 0, "each action has its own id");
    /* python3: "msg_" + sha256(b"cart\0m1\x000\0").hexdigest()[:24] */
    CHECK_STR(a, "msg_977ca4bc68086482f4d3dd12", "delivery id is SHA-256 of trigger, mid, action");
    EVP_MD_free(sha256);
    unsigned char f1[HASHID_DEDUP_LEN], f2[HASHID_DEDUP_LEN];
    hashid_firing("ab", "c", f1);
    hashid_firing("a", "bc", f2);
    CHECK(memcmp(f1, f2, sizeof f1) != 0, "parts are separated");
    hashid_message("c", f2);
    hashid_firing("", "c", f1);
    CHECK(memcmp(f1, f2, sizeof f1) != 0, "an event and a firing never share a member");
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The dedup members are part of the stored layout (a change needs a new
 * KEYS_LAYOUT_VERSION): pinned. And 200,000 ids that differ
 * in one digit, as sequential messageIds do, give 200,000 members. */
static void test_dedup_hash_spread(void)
{
    static const unsigned char pinned[HASHID_DEDUP_LEN] = {0x6d, 0x1b, 0xcc, 0x47, 0xd8, 0x43};
    unsigned char h[HASHID_DEDUP_LEN];
    hashid_message("d-42", h);
    CHECK(memcmp(h, pinned, sizeof h) == 0, "pinned: %02x%02x%02x%02x%02x%02x", h[0], h[1], h[2], h[3], h[4], h[5]);
    enum { N = 200000 };
    uint64_t *v = malloc(N * sizeof *v);
    char id[32];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "d-%d", i);
        hashid_message(id, h);
        v[i] = 0;
        for (int k = 0; k < HASHID_DEDUP_LEN; k++)
            v[i] = v[i] << 8 | h[k];
    }
    qsort(v, N, sizeof *v, cmp_u64);
    size_t same = 0;
    for (int i = 1; i < N; i++)
        same += v[i] == v[i - 1];
    CHECK(same == 0, "%zu collisions among %d sequential ids", same, N);
    free(v);
}

int main(void)
{
    test_ids();
    test_dedup_hash_spread();
    return harness_summary("test_hashid");
}
