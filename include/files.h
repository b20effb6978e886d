/* files.h — the small files nudged reads: trigger files and the files they
 * name (templates, secrets), write keys, secrets of the configuration.
 * Bounded, and only regular files, opened without blocking: a FIFO or a
 * device given by mistake is an error, never a hang of the loop or of a
 * reload. The trigger loader (triggers/, which does no I/O) reads through
 * files_refs. */
#ifndef NUDGED_FILES_H
#define NUDGED_FILES_H

#include <stddef.h>

#include "util.h"

/* PATH's text, malloc'd and NUL-terminated; NULL when it cannot be
 * opened, is not a regular file or is over MAX bytes, with the reason
 * in WHY (WHYLEN bytes, a phrase such as "not a regular file"). */
char *files_read(const char *path, size_t max, char *why, size_t whylen);

/* The first line of PATH without its line end ("" for an empty file), or
 * NULL: a secret from a file (at most 64 KiB). */
char *files_read_first_line(const char *path);

/* How the trigger loader reads the files a trigger names, relative to
 * BASEDIR (the triggers directory): with files_read_ref, files_read as
 * the loader calls it (DATA unused). */
struct util_files files_refs(const char *basedir);
char *files_read_ref(void *data, const char *path, size_t max);

#endif
