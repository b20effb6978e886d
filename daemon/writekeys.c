/* writekeys.c — the write keys file (see writekeys.h). Keys are few (one
 * a site or source), so a list compared in constant time is enough. */
#include "writekeys.h"
#include "files.h"
#include "util.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WRITEKEYS_FILE_MAX (1024 * 1024)
#define WRITEKEYS_KEY_MAX 256

struct writekeys {
    char **keys; /* owned */
    size_t n;
};

static void add_key(struct writekeys *wk, const char *k, size_t len)
{
    wk->keys = util_xrealloc(wk->keys, (wk->n + 1) * sizeof *wk->keys);
    wk->keys[wk->n++] = util_xstrndup(k, len);
}

/* One line: skipped, a key, or an error (returns -1). */
static int parse_line(struct writekeys *wk, const char *path, int lineno, char *line, struct errlist *errs)
{
    char *end = line + strlen(line);
    while (isspace((unsigned char)*line))
        line++;
    while (end > line && isspace((unsigned char)end[-1]))
        *--end = '\0';
    if (*line == '\0' || *line == '#')
        return 0;
    for (const char *p = line; *p; p++)
        if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p)) {
            errlist_add(errs, "%s:%d: a write key has no spaces or control characters", path, lineno);
            return -1;
        }
    if (end - line > WRITEKEYS_KEY_MAX) {
        errlist_add(errs, "%s:%d: a write key is at most %d bytes", path, lineno, WRITEKEYS_KEY_MAX);
        return -1;
    }
    add_key(wk, line, (size_t)(end - line));
    return 0;
}

struct writekeys *writekeys_load(const char *path, struct errlist *errs)
{
    char why[64];
    char *text = files_read(path, WRITEKEYS_FILE_MAX, why, sizeof why);
    if (text == NULL) {
        errlist_add(errs, "%s: cannot read http.write_keys_file (%s)", path, why);
        return NULL;
    }
    struct writekeys *wk = util_xcalloc(1, sizeof *wk);
    int lineno = 0, bad = 0;
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        bad |= parse_line(wk, path, lineno, line, errs);
    }
    free(text);
    if (!bad && wk->n == 0)
        errlist_add(errs, "%s: http.write_keys_file holds no key: write one key a line", path);
    if (bad || wk->n == 0) {
        writekeys_free(wk);
        return NULL;
    }
    return wk;
}

bool writekeys_has(const struct writekeys *wk, const char *key, size_t len)
{
    bool found = false;
    for (size_t i = 0; wk && i < wk->n; i++)
        found |= strlen(wk->keys[i]) == len && CRYPTO_memcmp(wk->keys[i], key, len) == 0;
    return found;
}

size_t writekeys_count(const struct writekeys *wk)
{
    return wk ? wk->n : 0;
}

void writekeys_free(struct writekeys *wk)
{
    if (wk == NULL)
        return;
    for (size_t i = 0; i < wk->n; i++) {
        OPENSSL_cleanse(wk->keys[i], strlen(wk->keys[i]));
        free(wk->keys[i]);
    }
    free(wk->keys);
    free(wk);
}
