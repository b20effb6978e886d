/* tdir.c — the triggers directory read into a trigger set (tdir.h). */
#include "tdir.h"
#include "files.h"
#include "util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int json_file(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return e->d_name[0] != '.' && n > 5 && strcmp(e->d_name + n - 5, ".json") == 0;
}

struct trigger_set *tdir_load(const char *dir, struct errlist *errs)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, json_file, alphasort);
    if (n < 0) {
        errlist_add(errs, "%s: cannot read the triggers directory", dir);
        return NULL;
    }
    struct trigger_set *set = trigger_set_new(errs);
    struct util_files refs = files_refs(dir);
    for (int i = 0; i < n; i++) {
        char *file = NULL, why[64];
        if (asprintf(&file, "%s/%s", dir, names[i]->d_name) < 0)
            util_fatal("out of memory");
        char *text = files_read(file, TRIGGER_FILE_MAX, why, sizeof why);
        if (text)
            trigger_set_add_text(set, file, text, &refs, errs);
        else
            errlist_add(errs, "%s: %s", file, why);
        free(text);
        free(file);
        free(names[i]);
    }
    free(names);
    return trigger_set_finish(set, dir, errs);
}
