/* test_gunzip.c — capped inflation of request bodies: gzip, deflate, bombs. */
#include "gunzip.h"
#include "harness.h"
#include "segment.h"

#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

static char *gzip_of(const char *s, size_t len, size_t *outlen)
{
    z_stream z = {0};
    CHECK(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK, "deflateInit2");
    size_t cap = deflateBound(&z, (uLong)len) + 64;
    char *out = malloc(cap);
    z.next_in = (Bytef *)(uintptr_t)s;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END, "deflate");
    *outlen = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static void test_gunzip(void)
{
    const char *text = "{\"batch\":[]}";
    size_t zlen, outlen;
    char *z = gzip_of(text, strlen(text), &zlen), *out;
    CHECK(gunzip_capped(z, zlen, 100, &out, &outlen) == GUNZIP_OK && outlen == strlen(text) && strcmp(out, text) == 0,
          "a small body inflates");
    free(out);
    CHECK(gunzip_capped(z, zlen, 5, &out, &outlen) == GUNZIP_TOO_LARGE && out == NULL, "over the cap");
    CHECK(gunzip_capped(z, zlen - 3, 100, &out, &outlen) == GUNZIP_BAD && out == NULL, "a truncated stream");
    CHECK(gunzip_capped("plain text", 10, 100, &out, &outlen) == GUNZIP_BAD, "not gzip");
    free(z);

    /* A bomb: 64 MiB of zeros in ~64 KiB; the cap stops it at 500 KiB. */
    size_t big = 64u << 20;
    char *zeros = calloc(1, big);
    z = gzip_of(zeros, big, &zlen);
    free(zeros);
    CHECK(zlen < 200 * 1024, "the bomb is small (%zu)", zlen);
    CHECK(gunzip_capped(z, zlen, SEGMENT_BATCH_MAX, &out, &outlen) == GUNZIP_TOO_LARGE, "a gzip bomb is refused");
    free(z);
}

int main(void)
{
    test_gunzip();
    return harness_summary("test_gunzip");
}
