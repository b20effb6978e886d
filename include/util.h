/* util.h — allocation that never returns NULL, bounded string buffers. */
#ifndef NUDGED_UTIL_H
#define NUDGED_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Prints MSG to stderr and exits 3: for out-of-memory and broken invariants only. */
void util_fatal(const char *msg) __attribute__((noreturn));

void *util_xmalloc(size_t n);
void *util_xcalloc(size_t n, size_t size);
void *util_xrealloc(void *p, size_t n);
char *util_xstrdup(const char *s);
char *util_xstrndup(const char *s, size_t n);

/* A growable byte buffer with a hard maximum (curl's dynbuf). */
struct buf {
    char *data; /* owned; always NUL-terminated when non-NULL */
    size_t len, cap, max;
};

/* Initialises B with maximum size MAX (bytes, without the NUL). */
void util_buf_init(struct buf *b, size_t max);
/* Appends; returns -1 (and leaves B unchanged) when MAX would be passed. */
int util_buf_add(struct buf *b, const void *p, size_t n) __attribute__((warn_unused_result));
int util_buf_adds(struct buf *b, const char *s) __attribute__((warn_unused_result));
/* Makes room for N bytes (at most the maximum) at once, where the size to
 * come is known: no growth step by step. */
void util_buf_reserve(struct buf *b, size_t n);
int util_buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3), warn_unused_result));
/* Hands the data to the caller (who frees it) and resets B. */
char *util_buf_steal(struct buf *b);
void util_buf_free(struct buf *b);

/* S as the inside of a JSON string at O, which has room for 6 bytes for
 * each byte of S; returns the end (not terminated). */
char *util_json_escape(char *o, const char *s);

/* FNV-1a, 64 bits, of N bytes at S continuing from H (start with
 * UTIL_FNV64_BASIS), and murmur3's fmix64, which makes every output bit
 * depend on every input bit. Stable across builds and machines: their
 * results name and split data (counter fields, dedup hashes, holdouts). */
#define UTIL_FNV64_BASIS 14695981039346656037ULL
uint64_t util_fnv1a64(uint64_t h, const void *s, size_t n);
uint64_t util_fmix64(uint64_t h);

/* FNV-1a, 32 bits, of the string S: how a customer id picks its shard
 * (SPEC 8), so producers in any language can compute it. */
uint32_t util_fnv1a32(const char *s);

/* A share written as a percentage with at most two decimals ("10%", "2.5%",
 * "0%" ... "100%") in hundredths of a percent (UTIL_SHARE_BUCKETS is all);
 * -1 when S is not one. Holdouts and [triggers] top_share. */
#define UTIL_SHARE_BUCKETS 10000
int util_parse_share(const char *s, uint32_t *buckets) __attribute__((warn_unused_result));

/* V in decimal, NUL-terminated, written to the end of BUF: returns where
 * it starts. Without printf, whose format parsing costs more than the
 * digits, on paths that run for every webhook. */
#define UTIL_I64_LEN 21
char *util_i64(char buf[UTIL_I64_LEN], int64_t v);

/* Parses a whole decimal integer; returns -1 on junk or overflow. */
int util_parse_int(const char *s, long long *out) __attribute__((warn_unused_result));

/* NAME as found from BASEDIR: NAME itself when absolute. */
void util_resolve(const char *basedir, const char *name, char *out, size_t outlen);

/* How the trigger loader reads the files a trigger names (an email's
 * text_file, a webhook's secret_file): through its caller (files.h in the
 * daemon; a test's or a fuzzer's own), so that triggers/ does no I/O.
 * READ returns PATH's text, malloc'd and NUL-terminated, or NULL when it
 * cannot be read or is over MAX bytes. */
struct util_files {
    const char *basedir; /* relative names are found from it */
    char *(*read)(void *data, const char *path, size_t max);
    void *data;
};

/* NAME's text read through F (NULL when it cannot be; F may be NULL: no
 * file can be read), and its path as found from F's basedir in FULL. */
char *util_files_read(const struct util_files *f, const char *name, size_t max, char *full, size_t fulllen);

/* The choice nearest to WORD (at most two edits away), or NULL: for
 * "did you mean" hints in error messages. */
const char *util_nearest(const char *word, const char *const *choices, size_t n);

#endif
