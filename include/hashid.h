/* hashid.h — short stable ids derived from what they identify.
 *
 * De-duplication keys and delivery ids are hashes of (trigger, messageId,
 * action), so a redelivered event yields the very same ids: a retry carries
 * the same webhook-id, and a repeated firing is recognised. */
#ifndef NUDGED_HASHID_H
#define NUDGED_HASHID_H

#include <openssl/types.h>
#include <stddef.h>

/* 48 bits: the odds that two of a customer's ~100 members in a day collide
 * are about 2e-11, and every byte counts: there are ~30 members per
 * customer (SPEC's memory aim: 1 KiB a customer). */
#define HASHID_DEDUP_LEN 6
#define HASHID_DELIVERY_LEN 29 /* "msg_" + 24 hex + NUL */

/* The dedup member of an applied event: 48 bits of a hash of ("m", mid). */
void hashid_message(const char *message_id, unsigned char out[HASHID_DEDUP_LEN]);

/* The dedup member of an entry's firings: 48 bits of a hash of ("f",
 * trigger, mid); the trigger is "" for an event's (all its triggers at
 * once), a trigger's id for its waiting firing come due. */
void hashid_firing(const char *trigger, const char *message_id, unsigned char out[HASHID_DEDUP_LEN]);

/* The delivery (webhook) id: "msg_" + 24 hex digits of SHA-256(trigger, mid,
 * action), with SHA256 fetched once by the caller (EVP_MD_fetch): SHA256()
 * fetches it on every call, which costs about as much as the digest.
 * NULL fetches it each time. */
void hashid_delivery(const EVP_MD *sha256, const char *trigger, const char *message_id, size_t action,
                     char out[HASHID_DELIVERY_LEN]);

#endif
