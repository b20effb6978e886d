/* daemon.h — run nudged in the foreground: the one event loop, wired. */
#ifndef NUDGED_DAEMON_H
#define NUDGED_DAEMON_H

#include "config.h"
#include "trigger.h"

/* Runs until SIGTERM/SIGINT. Takes TRIGGERS (freed before returning) and
 * what CFG owns that the daemon keeps (the write keys); the caller frees
 * CFG. SIGHUP loads the triggers directory and the write keys file of CFG
 * again. Returns the exit code: 0 after a clean stop, 3 on a runtime
 * failure. */
int daemon_run(struct config *cfg, struct trigger_set *triggers);

#endif
