/* tdir.h — the triggers directory ([triggers] dir) read into a trigger
 * set: every *.json in it, by name, regular files only, each at most
 * TRIGGER_FILE_MAX; the files a trigger names (templates, secrets) are
 * read from the directory too (files.h). The reading is here, in the
 * daemon; the language is triggers/trigger.c's, which does no I/O. */
#ifndef NUDGED_TDIR_H
#define NUDGED_TDIR_H

#include "errlist.h"
#include "trigger.h"

/* The set of DIR's trigger files (caller frees with trigger_set_free), or
 * NULL after adding every problem to ERRS in SPEC 3's form. A directory
 * with no triggers is a valid, empty set. */
struct trigger_set *tdir_load(const char *dir, struct errlist *errs);

#endif
