/* rounds.h — which round of a batch each event runs in.
 *
 * When firings change profiles (score and set actions), the events of one
 * person in a batch must be applied and judged one after the other, as
 * replay does: the n-th event of a person (counted from 0) runs in round
 * n. A person is a customer id together with every id that a merge in the
 * same batch links to it. */
#ifndef NUDGED_ROUNDS_H
#define NUDGED_ROUNDS_H

#include <stddef.h>

#include "entry.h"

/* Sets the round of each valid entry of E (N of them, in stream order) and
 * returns how many rounds the batch takes (at least 1). */
unsigned rounds_assign(struct entry *e, size_t n);

#endif
