/* writekeys.h — the collector's write keys (SPEC 1.2): a file with one key
 * a line, read at start and on reload. */
#ifndef NUDGED_WRITEKEYS_H
#define NUDGED_WRITEKEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "errlist.h"

struct writekeys;

/* Reads PATH: one key a line; blank lines and lines starting with # are
 * skipped, spaces around a key ignored. Returns the keys (free with
 * writekeys_free), or NULL with the reason in ERRS: the file cannot be
 * read, a line holds a space inside a key, or it yields no key at all (a
 * collector open to anyone by mistake must not start). */
struct writekeys *writekeys_load(const char *path, struct errlist *errs) __attribute__((warn_unused_result));

/* True when the LEN bytes at KEY are one of WK's keys (in constant time
 * over the key's bytes). */
bool writekeys_has(const struct writekeys *wk, const char *key, size_t len);

size_t writekeys_count(const struct writekeys *wk);

void writekeys_free(struct writekeys *wk);

#endif
