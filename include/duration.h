/* duration.h — DURATION values: "30s", "10m", "1h", "7d" and sums ("1h30m"). */
#ifndef NUDGED_DURATION_H
#define NUDGED_DURATION_H

#include <stdint.h>

/* Parses S into milliseconds. Units: ms, s, m, h, d, w. Returns 0 and sets
 * *OUT, or -1 when S is empty, has an unknown unit or overflows. */
int duration_parse(const char *s, int64_t *out) __attribute__((warn_unused_result));

#endif
