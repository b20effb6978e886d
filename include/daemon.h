/* daemon.h — run nudged in the foreground: the one event loop, wired. */
#ifndef NUDGED_DAEMON_H
#define NUDGED_DAEMON_H

#include "config.h"
#include "trigger.h"

/* Runs until SIGTERM/SIGINT. Takes ownership of CFG's contents and of
 * TRIGGERS (both freed before returning). CONFIG_PATH is re-read for
 * nothing but the triggers directory on SIGHUP. Returns the exit code:
 * 0 after a clean stop, 3 on a runtime failure. */
int daemon_run(struct config *cfg, struct trigger_set *triggers);

#endif
