/* test_writekeys.c — the write keys file: keys, comments, errors. */
#include "errlist.h"
#include "harness.h"
#include "writekeys.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_writekeys(void)
{
    static const struct {
        const char *name, *text;
        int ok;
        const char *error; /* a part of the error */
    } cases[] = {
        {"one key", "wk_1\n", 1, NULL},
        {"comments, blanks, spaces", "# site\n\n  wk_1  \r\nwk_2\n", 1, NULL},
        {"empty file", "", 0, "holds no key"},
        {"only a newline", "\n", 0, "holds no key"},
        {"only comments", "# nothing\n", 0, "holds no key"},
        {"a space inside", "wk 1\n", 0, ":1: a write key has no spaces"},
    };
    char path[] = "/tmp/nudged-writekeys-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    close(fd);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        FILE *f = fopen(path, "w");
        fputs(cases[i].text, f);
        fclose(f);
        struct errlist errs = {0};
        struct writekeys *wk = writekeys_load(path, &errs);
        CHECK((wk != NULL) == cases[i].ok, "%s: loaded %d", cases[i].name, wk != NULL);
        if (cases[i].error)
            CHECK(errs.n == 1 && strstr(errs.lines[0], cases[i].error), "%s: error \"%s\"", cases[i].name,
                  errs.n ? errs.lines[0] : "(none)");
        if (wk) {
            CHECK(writekeys_has(wk, "wk_1", 4), "%s: wk_1 is a key", cases[i].name);
            CHECK(!writekeys_has(wk, "wk_", 3) && !writekeys_has(wk, "wk_10", 5), "%s: prefixes are not keys",
                  cases[i].name);
        }
        writekeys_free(wk);
        errlist_clear(&errs);
    }
    unlink(path);
    struct errlist errs = {0};
    CHECK(writekeys_load("/nonexistent/keys", &errs) == NULL && errs.n == 1, "a missing file is an error");
    errlist_clear(&errs);
    /* A FIFO would block the reader (a reload) for good: refused unopened. */
    CHECK(mkfifo(path, 0600) == 0, "mkfifo");
    CHECK(writekeys_load(path, &errs) == NULL && errs.n == 1 && strstr(errs.lines[0], "not a regular file"),
          "a FIFO is refused, not read: %s", errs.n ? errs.lines[0] : "");
    errlist_clear(&errs);
    unlink(path);
}

int main(void)
{
    test_writekeys();
    return harness_summary("test_writekeys");
}
