/* harness.h — the smallest test harness: CHECK counts, a summary line at the
 * end ("N passed, M failed") that tests/unit/run.sh adds up for CI. */
#ifndef NUDGED_TEST_HARNESS_H
#define NUDGED_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

#include "files.h"

static int harness_passed, harness_failed;

#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (cond) {                                                                                                    \
            harness_passed++;                                                                                          \
        } else {                                                                                                       \
            harness_failed++;                                                                                          \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                       \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fputc('\n', stderr);                                                                                       \
        }                                                                                                              \
    } while (0)

static inline int harness_streq(const char *got, const char *want)
{
    return got != NULL && strcmp(got, want) == 0;
}

static inline const char *harness_show(const char *s)
{
    return s ? s : "(null)";
}

#define CHECK_STR(got, want, what)                                                                                     \
    CHECK(harness_streq((got), (want)), "%s: got \"%s\", want \"%s\"", (what), harness_show(got), (want))

static inline int harness_summary(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, harness_passed, harness_failed);
    return harness_failed ? 1 : 0;
}

/* The smallest valid actions member, for trigger texts written in tests. */
/* The files a test's triggers name, read as the daemon reads them, from
 * the current directory (the repository's root). */
static const struct util_files harness_files = {".", files_read_ref, NULL};

#define HARNESS_HOOK "\"actions\": [{\"webhook\": {\"url\": \"https://crm.test/h\"}}]"

#endif
