/* log.h — one line a record on stderr, logfmt or JSON, for journald.
 *
 * The level and format are set once at start (and on reload) before the
 * loop runs; they are the only process-wide state nudged keeps, as redis's
 * serverLog and tmux's log.c do. Filtered records return before formatting.
 */
#ifndef NUDGED_LOG_H
#define NUDGED_LOG_H

#include <stdbool.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* Sets the minimum level and the output format. */
void log_setup(enum log_level level, enum log_format format);

/* True when records of LEVEL are written. */
bool log_enabled(enum log_level level);

/* Parses "debug", "info", "warn", "error"; returns -1 when unknown. */
int log_level_parse(const char *s);

/* Writes one record: MSG, then KEY, VALUE string pairs ended by NULL.
 * Values are escaped (quotes, controls), so untrusted text is safe to pass. */
void log_kv(enum log_level level, const char *msg, ...) __attribute__((sentinel));

/* For event_set_log_callback: libevent's own messages as our records (its
 * EVENT_LOG_* severity: 0 debug, 1 msg, 2 warn, 3 err), at most
 * LOG_LIBEVENT_PER_SECOND a second, the count of those dropped in between
 * on the next one written: a failing accept loop cannot flood the journal. */
#define LOG_LIBEVENT_PER_SECOND 10
void log_libevent(int severity, const char *msg);

#define log_debug(...)                                                                                                 \
    do {                                                                                                               \
        if (log_enabled(LOG_LEVEL_DEBUG))                                                                              \
            log_kv(LOG_LEVEL_DEBUG, __VA_ARGS__, NULL);                                                                \
    } while (0)
#define log_info(...)                                                                                                  \
    do {                                                                                                               \
        if (log_enabled(LOG_LEVEL_INFO))                                                                               \
            log_kv(LOG_LEVEL_INFO, __VA_ARGS__, NULL);                                                                 \
    } while (0)
#define log_warn(...)                                                                                                  \
    do {                                                                                                               \
        if (log_enabled(LOG_LEVEL_WARN))                                                                               \
            log_kv(LOG_LEVEL_WARN, __VA_ARGS__, NULL);                                                                 \
    } while (0)
#define log_error(...) log_kv(LOG_LEVEL_ERROR, __VA_ARGS__, NULL)

#endif
