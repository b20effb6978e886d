/* notify.h — sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET. */
#ifndef NUDGED_NOTIFY_H
#define NUDGED_NOTIFY_H

#include <stdint.h>

/* Sends STATE ("READY=1", "STOPPING=1", "STATUS=...") when NOTIFY_SOCKET is
 * set; does nothing otherwise. Returns 0, or -1 when sending failed. */
int notify_send(const char *state);

/* The watchdog interval in ms from $WATCHDOG_USEC, or 0 when not enabled. */
int64_t notify_watchdog_ms(void);

#endif
