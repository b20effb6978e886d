/* redrive.h — `nudged redrive` (SPEC 6): send the deliveries in
 * <prefix>dead again, after a receiver is fixed, each with its original
 * webhook-id. */
#ifndef NUDGED_REDRIVE_H
#define NUDGED_REDRIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct redrive_opts {
    const char *trigger; /* only this trigger's deliveries; NULL: all */
    int64_t since_ms;    /* only those dead for at most this long; 0: all */
    bool dry_run;        /* print what would move, move nothing */
};

/* Moves the matching dead deliveries back to the actions stream, a page at
 * a time, each atomically (two redrives never send one twice), and prints
 * one line for each. Returns 0, or 3 when Redis cannot be reached or fails. */
int redrive_run(const struct config *cfg, const struct redrive_opts *o);

#endif
