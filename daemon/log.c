/* log.c — logfmt or JSON records on stderr, one line each.
 *
 * Every value is escaped here, so callers may log customer ids, URLs and
 * Redis errors as they are: a CR or LF can never forge a second record.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum log_level min_level = LOG_LEVEL_INFO;
static enum log_format out_format = LOG_FORMAT_TEXT;
/* libevent's own messages, rate-limited: the second they fall in, how many
 * were written in it, how many were dropped since the last written. */
static time_t libevent_second;
static unsigned libevent_written, libevent_dropped;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_setup(enum log_level level, enum log_format format)
{
    min_level = level;
    out_format = format;
}

bool log_enabled(enum log_level level)
{
    return level >= min_level;
}

int log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

/* Appends S escaped for logfmt (quoted when needed) or JSON (always quoted). */
static void put_value(FILE *f, const char *s, bool json)
{
    bool quote = json || *s == '\0' || strpbrk(s, " =\"\\") != NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p && !quote; p++)
        if (*p < 0x20 || *p == 0x7f)
            quote = true;
    if (!quote) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p == '\r')
            fputs("\\r", f);
        else if (*p == '\t')
            fputs("\\t", f);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void put_pair(FILE *f, const char *k, const char *v, bool json)
{
    if (json) {
        fputs(",", f);
        put_value(f, k, true);
        fputc(':', f);
    } else {
        fprintf(f, " %s=", k);
    }
    put_value(f, v ? v : "", json);
}

void log_kv(enum log_level level, const char *msg, ...)
{
    if (!log_enabled(level))
        return;
    char ts[40];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%03ldZ", now.tv_nsec / 1000000);

    bool json = out_format == LOG_FORMAT_JSON;
    /* Build the line in memory and write it once, so records never interleave. */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return;
    if (json) {
        fputs("{\"ts\":", f);
        put_value(f, ts, true);
    } else {
        fprintf(f, "ts=%s", ts);
    }
    put_pair(f, "level", level_names[level], json);
    put_pair(f, "msg", msg, json);
    va_list ap;
    va_start(ap, msg);
    for (const char *k = va_arg(ap, const char *); k; k = va_arg(ap, const char *))
        put_pair(f, k, va_arg(ap, const char *), json);
    va_end(ap);
    fputs(json ? "}\n" : "\n", f);
    fclose(f);
    fwrite(buf, 1, len, stderr);
    free(buf);
}

void log_libevent(int severity, const char *msg)
{
    time_t now = time(NULL);
    if (now != libevent_second) {
        libevent_second = now;
        libevent_written = 0;
    }
    if (libevent_written >= LOG_LIBEVENT_PER_SECOND) {
        libevent_dropped++;
        return;
    }
    libevent_written++;
    char dropped[24];
    snprintf(dropped, sizeof dropped, "%u", libevent_dropped);
    enum log_level level = severity >= 3 ? LOG_LEVEL_ERROR : severity == 2 ? LOG_LEVEL_WARN : LOG_LEVEL_DEBUG;
    if (log_enabled(level))
        log_kv(level, "libevent", "message", msg, libevent_dropped ? "dropped_before" : NULL, dropped, NULL);
    libevent_dropped = 0;
}
