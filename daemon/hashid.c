/* hashid.c — SHA-256 based ids for de-duplication and deliveries. */
#include "hashid.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

static void digest(const char *a, const char *b, const char *c, unsigned char md[SHA256_DIGEST_LENGTH])
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
    SHA256(buf, n, md);
}

void hashid_message(const char *message_id, unsigned char out[HASHID_DEDUP_LEN])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    digest("m", message_id, NULL, md);
    memcpy(out, md, HASHID_DEDUP_LEN);
}

void hashid_firing(const char *trigger, const char *message_id, unsigned char out[HASHID_DEDUP_LEN])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    digest("f", trigger, message_id, md);
    memcpy(out, md, HASHID_DEDUP_LEN);
}

void hashid_delivery(const char *trigger, const char *message_id, size_t action, char out[HASHID_DELIVERY_LEN])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    char idx[24];
    snprintf(idx, sizeof idx, "%zu", action);
    digest(trigger, message_id, idx, md);
    memcpy(out, "msg_", 4);
    for (int i = 0; i < 12; i++)
        snprintf(out + 4 + i * 2, 3, "%02x", md[i]);
}
