/* gunzip.c — capped inflation of request bodies (see gunzip.h). The output
 * grows as zlib fills it and stops one byte past the cap. */
#include "gunzip.h"
#include "util.h"

#include <stdlib.h>
#include <zlib.h>

#define GUNZIP_STEP (16 * 1024)

enum gunzip_result gunzip_capped(const void *in, size_t len, size_t max, char **out, size_t *outlen)
{
    z_stream z = {0};
    *out = NULL;
    *outlen = 0;
    if (len > UINT32_MAX || inflateInit2(&z, 15 + 32) != Z_OK) /* 15 + 32: gzip or zlib header */
        return GUNZIP_BAD;
    size_t cap = 0, used = 0;
    char *buf = NULL;
    int rc = Z_OK;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    while (rc == Z_OK && used <= max) {
        if (used == cap) {
            cap = cap + GUNZIP_STEP > max + 1 ? max + 1 : cap + GUNZIP_STEP;
            buf = util_xrealloc(buf, cap + 1);
        }
        z.next_out = (Bytef *)buf + used;
        z.avail_out = (uInt)(cap - used);
        rc = inflate(&z, Z_NO_FLUSH);
        used = cap - z.avail_out;
        if (rc == Z_BUF_ERROR && z.avail_in == 0)
            break; /* the input ended before the stream did */
        if (used == max + 1)
            break;
    }
    inflateEnd(&z);
    if (used > max) {
        free(buf);
        return GUNZIP_TOO_LARGE;
    }
    if (rc != Z_STREAM_END) {
        free(buf);
        return GUNZIP_BAD;
    }
    buf[used] = '\0';
    *out = buf;
    *outlen = used;
    return GUNZIP_OK;
}
