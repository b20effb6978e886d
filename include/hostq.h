/* hostq.h — admission per host: at most PER_HOST transfers to one host run
 * at once, the others wait in order of arrival. It knows nothing of curl:
 * a transfer is an opaque pointer that stays its caller's. */
#ifndef NUDGED_HOSTQ_H
#define NUDGED_HOSTQ_H

#include <stdbool.h>
#include <stddef.h>

/* A host key: the lowercase host, ':' and the port (the scheme's default
 * when the URL has none), as curl counts connections per host. */
#define HOSTQ_KEY_MAX 272

struct hostq;

/* Writes URL's host key into KEY; a URL without "://" gives its whole text
 * cut to fit, so that it still has one key. */
void hostq_key(const char *url, char key[HOSTQ_KEY_MAX]);

/* A queue of PER_HOST (at least 1) transfers a host. Never NULL. */
struct hostq *hostq_new(size_t per_host);

/* Frees Q; the transfers still waiting are their callers' to free. */
void hostq_free(struct hostq *q);

/* Returns true when ITEM may start now (it then counts as running for
 * KEY); false when it waits behind the transfers of KEY already running. */
bool hostq_admit(struct hostq *q, const char *key, void *item) __attribute__((warn_unused_result));

/* A running transfer of KEY ended. Returns the next waiting one of KEY,
 * which now counts as running, or NULL. */
void *hostq_next(struct hostq *q, const char *key) __attribute__((warn_unused_result));

/* Takes ITEM out of KEY's waiting transfers; returns false when it was not
 * waiting. */
bool hostq_cancel(struct hostq *q, const char *key, void *item);

/* How many transfers of KEY run and wait (for tests and metrics). */
size_t hostq_running(const struct hostq *q, const char *key);
size_t hostq_waiting(const struct hostq *q, const char *key);

#endif
