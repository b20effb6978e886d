/* rarena.h — a Redis connection's replies built in one arena.
 *
 * hiredis allocates every part of a reply (each object, string and element
 * array) on its own, and frees them one by one once the callback returns:
 * a batch of 200 stream entries is over a thousand malloc and free calls.
 * A connection parses one reply at a time and frees it before the next, so
 * its replies can come from one arena that is reset, not freed, when hiredis
 * frees the reply. The objects are the same redisReply that callbacks read.
 * Under AddressSanitizer the reset memory is poisoned, so a reply used
 * after its callback still fails loudly.
 */
#ifndef NUDGED_RARENA_H
#define NUDGED_RARENA_H

#include <hiredis/read.h>

struct rarena;

struct rarena *rarena_new(void);

/* Frees A; no reply built in it may still be in use. */
void rarena_free(struct rarena *a);

/* Makes READER build its replies in A, which must outlive the reader. */
void rarena_attach(struct rarena *a, redisReader *reader);

#endif
