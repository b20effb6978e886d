/* clock.h — the daemon's clock. The trigger code has none: it is given "now". */
#ifndef NUDGED_CLOCK_H
#define NUDGED_CLOCK_H

#include <stdint.h>

/* Wall clock, milliseconds since the epoch (timestamps, Redis scores). */
int64_t clock_now_ms(void);

/* Monotonic clock in milliseconds (deadlines, latency). */
int64_t clock_mono_ms(void);

/* Monotonic clock in microseconds (request durations). */
int64_t clock_mono_us(void);

#endif
