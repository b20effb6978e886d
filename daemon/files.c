/* files.c — the small files nudged reads, bounded and regular only
 * (files.h). */
#include "files.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIRST_LINE_MAX (64 * 1024)

char *files_read(const char *path, size_t max, char *why, size_t whylen)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(why, whylen, "cannot open the file");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
        if (!S_ISREG(st.st_mode))
            snprintf(why, whylen, "not a regular file");
        else if (max % (1024 * 1024) == 0)
            snprintf(why, whylen, "the file is over %zu MiB", max >> 20);
        else
            snprintf(why, whylen, "the file is over %zu KiB", max >> 10);
        close(fd);
        return NULL;
    }
    size_t n = (size_t)st.st_size, got = 0;
    char *text = util_xmalloc(n + 1);
    while (got < n) {
        ssize_t r = read(fd, text + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    text[got] = '\0';
    return text;
}

char *files_read_first_line(const char *path)
{
    char why[64];
    char *text = files_read(path, FIRST_LINE_MAX, why, sizeof why);
    if (text)
        text[strcspn(text, "\r\n")] = '\0';
    return text;
}

char *files_read_ref(void *data, const char *path, size_t max)
{
    char why[64];
    (void)data;
    return files_read(path, max, why, sizeof why);
}

struct util_files files_refs(const char *basedir)
{
    return (struct util_files){basedir, files_read_ref, NULL};
}
