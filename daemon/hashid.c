/* hashid.c — ids for de-duplication (a fast 48-bit hash) and deliveries (SHA-256). */
#include "hashid.h"
#include "util.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void digest(const EVP_MD *sha256, const char *a, const char *b, const char *c,
                   unsigned char md[SHA256_DIGEST_LENGTH])
{
    /* The NUL separators keep ("ab","c") apart from ("a","bc"). Parts are
     * bounded (ids at most 256 bytes), so they fit; longer ones are cut. */
    unsigned char buf[1024];
    size_t n = 0;
    const char *parts[3] = {a, b, c};
    for (int i = 0; i < 3 && parts[i]; i++) {
        size_t len = strlen(parts[i]) + 1;
        if (len > sizeof buf - n)
            len = sizeof buf - n;
        memcpy(buf + n, parts[i], len);
        n += len;
    }
    if (sha256 == NULL || !EVP_Digest(buf, n, md, NULL, sha256, NULL))
        SHA256(buf, n, md);
}

/* FNV-1a over the parts with their NUL separators, then murmur3's fmix64
 * so every output bit depends on every input bit. De-duplication needs 48
 * well-spread bits, not a cryptographic hash: this runs for every event and
 * firing and costs a small fraction of a SHA-256 through OpenSSL. */
static void dedup_hash(const char *a, const char *b, const char *c, unsigned char out[HASHID_DEDUP_LEN])
{
    uint64_t h = UTIL_FNV64_BASIS;
    const char *parts[3] = {a, b, c};
    for (int i = 0; i < 3 && parts[i]; i++)
        h = util_fnv1a64(h, parts[i], strlen(parts[i]) + 1);
    h = util_fmix64(h);
    for (int i = 0; i < HASHID_DEDUP_LEN; i++)
        out[i] = (unsigned char)(h >> (56 - 8 * i));
}

void hashid_message(const char *message_id, unsigned char out[HASHID_DEDUP_LEN])
{
    dedup_hash("m", message_id, NULL, out);
}

void hashid_firing(const char *trigger, const char *message_id, unsigned char out[HASHID_DEDUP_LEN])
{
    dedup_hash("f", trigger, message_id, out);
}

void hashid_delivery(const EVP_MD *sha256, const char *trigger, const char *message_id, size_t action,
                     char out[HASHID_DELIVERY_LEN])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[SHA256_DIGEST_LENGTH];
    char idx[UTIL_I64_LEN];
    digest(sha256, trigger, message_id, util_i64(idx, (int64_t)action), md);
    memcpy(out, "msg_", 4);
    /* By hand: twelve snprintf calls cost more than the SHA-256. */
    for (int i = 0; i < 12; i++) {
        out[4 + 2 * i] = hex[md[i] >> 4];
        out[5 + 2 * i] = hex[md[i] & 15];
    }
    out[4 + 24] = '\0';
}
