/* tz.h — UTC offsets of IANA time zones ("Europe/Amsterdam"), read from the
 * system's TZif files once per zone and cached: for quiet hours in the
 * customer's own time zone. Zone names come from events, so a name is
 * checked before it becomes a path. */
#ifndef NUDGED_TZ_H
#define NUDGED_TZ_H

#include <stdbool.h>
#include <stdint.h>

/* Zones a cache holds at most; further unknown names are not looked up. */
#define TZ_CACHE_MAX 512

struct tz_cache;

/* A cache reading from DIR (NULL: $TZDIR, else /usr/share/zoneinfo).
 * Caller frees. */
struct tz_cache *tz_cache_new(const char *dir);
void tz_cache_free(struct tz_cache *c);

/* Sets *OFF_S to NAME's UTC offset in seconds at T_MS. Returns 0, or -1
 * when NAME is not a valid zone name or has no readable TZif file. */
int tz_offset(struct tz_cache *c, const char *name, int64_t t_ms, int32_t *off_s) __attribute__((warn_unused_result));

/* The offset of NAME at T_MS, else of FALLBACK, else 0 (UTC): the
 * customer's zone, else default_timezone. NAME may be NULL. */
int32_t tz_offset_or(struct tz_cache *c, const char *name, const char *fallback, int64_t t_ms);

/* A cache and the fallback zone, as the data of an eval_zone (path.h)
 * whose offset is tz_zone_offset: the customer's clock in triggers. */
struct tz_zone {
    struct tz_cache *cache;
    const char *fallback; /* [triggers] default_timezone */
};

/* tz_offset_or for an eval_zone: DATA is a struct tz_zone. */
int32_t tz_zone_offset(void *data, const char *name, int64_t t_ms);

/* True when NAME looks like an IANA zone name: letters, digits, "_+-" and
 * single "/" between parts, no "." part, at most 64 bytes. */
bool tz_name_valid(const char *name);

#endif
