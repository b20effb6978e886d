/* forget.h — `nudged forget ID` (SPEC 2, 6): erase one customer from Redis
 * with the same script as DELETE /v1/customers/ID, then exit. */
#ifndef NUDGED_FORGET_H
#define NUDGED_FORGET_H

#include "config.h"

/* Erases customer ID; prints what was removed. Returns 0, 2 for an ID that
 * cannot be a customer, or 3 when Redis cannot be reached in time. */
int forget_run(const struct config *cfg, const char *id);

#endif
