/* trigger.c — load trigger files into a set, match events against it.
 *
 * Loading reports every problem it finds, not the first, in SPEC 3's form,
 * because a marketer fixes a file faster from a full list. A set is immutable
 * once loaded: a reload builds a new one and swaps the pointer.
 */
#include "trigger.h"
#include "action.h"
#include "cond.h"
#include "counter.h"
#include "customer.h"
#include "date.h"
#include "duration.h"
#include "measure.h"
#include "source.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct trigger {
    char *id;
    json_t *info;
    int enabled;
    struct source on; /* what starts it */
    struct cond *where, *if_;
    struct action **actions;
    size_t nactions;
    int64_t delay_ms;
    const struct counter *unless; /* owned by the set's registry */
    int64_t unless_ms;
    int64_t limit_max;        /* 0: no limit */
    int64_t limit_per_ms;     /* 0: ever (once) */
    int quiet_from, quiet_to; /* minutes after midnight; -1: no quiet hours */
    struct measure measure;   /* goal and holdout */
    bool transactional;       /* its emails are neither capped nor counted by the frequency cap */
    bool uses_tiers;          /* it names customer.value_tier or value_percentile */
};

/* The triggers that one kind of message can start, in file order. */
struct bucket {
    const char *name; /* the event name (ON_EVENT buckets), borrowed */
    const struct trigger **t;
    size_t n;
};

struct trigger_set {
    int refs; /* a batch in progress holds one, so a reload cannot free it */
    struct trigger **t;
    size_t n;
    char **files;       /* the file each trigger came from, for duplicate-id messages */
    json_t *ids;        /* while loading: id -> index, so a duplicate is found in O(1) */
    size_t errs_before; /* while loading: the problems listed before it began */
    bool over_max;
    /* The index, built once loading is done: events by name (sorted), and
     * the page, screen and identify triggers, so a message meets only its
     * own. */
    struct bucket *events, page, screen, identify, group, silence, dates, tiers;
    bool uses_tiers;              /* some trigger starts on a tier move or reads customer.value_* */
    const struct measure **goals; /* one a distinct goal id, of the first trigger that has it */
    size_t ngoals;
    size_t nevents;
    struct counters counters; /* windowed counts and unless, shared by name */
    bool has_effects;         /* some trigger has a score or set action */
};

static const char *const trigger_keys[] = {"id",      "description", "enabled", "on",           "where",
                                           "if",      "unless",      "delay",   "limit",        "quiet_hours",
                                           "actions", "goal",        "holdout", "transactional"};
#define NKEYS (sizeof trigger_keys / sizeof trigger_keys[0])

static void trigger_free(struct trigger *t)
{
    if (t == NULL)
        return;
    free(t->id);
    json_decref(t->info);
    source_clear(&t->on);
    cond_free(t->where);
    cond_free(t->if_);
    measure_clear(&t->measure);
    for (size_t i = 0; i < t->nactions; i++)
        action_free(t->actions[i]);
    free(t->actions);
    free(t);
}

static int valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

static int load_actions(struct trigger *t, json_t *actions, const struct util_files *files, const struct diag *d)
{
    if (!json_is_array(actions) || json_array_size(actions) == 0) {
        errlist_diag(d, "actions", "needs a list of one or more actions");
        return -1;
    }
    int bad = 0;
    size_t i;
    json_t *a;
    t->actions = util_xcalloc(json_array_size(actions), sizeof *t->actions);
    json_array_foreach(actions, i, a)
    {
        char at[64];
        snprintf(at, sizeof at, "actions[%zu]", i);
        struct action *act = action_load(a, at, files, d);
        if (act)
            t->actions[t->nactions++] = act;
        else
            bad = 1;
    }
    return bad ? -1 : 0;
}

static int check_keys(json_t *obj, const struct diag *d)
{
    return errlist_unknown_keys(d, obj, NULL, trigger_keys, NKEYS, "a trigger") > 0 ? -1 : 0;
}

static int load_conditions(struct trigger *t, json_t *obj, struct counters *reg, const struct diag *d)
{
    int bad = 0;
    json_t *w = json_object_get(obj, "where"), *i = json_object_get(obj, "if"), *u = json_object_get(obj, "unless");
    if (w && (t->where = cond_compile(w, "where", COND_EVENT_ONLY, NULL, d)) == NULL)
        bad = 1;
    if (i && (t->if_ = cond_compile(i, "if", 0, reg, d)) == NULL)
        bad = 1;
    if (u && (t->unless = counter_register(reg, u, "unless", &t->unless_ms, d)) == NULL)
        bad = 1;
    return bad ? -1 : 0;
}

static int load_delay(struct trigger *t, json_t *delay, const struct diag *d)
{
    if (delay &&
        (!json_is_string(delay) || duration_parse(json_string_value(delay), &t->delay_ms) != 0 || t->delay_ms <= 0)) {
        errlist_diag(d, "delay", "needs a duration such as \"30s\", \"10m\", \"1h\", \"7d\" or \"1h30m\"");
        return -1;
    }
    return 0;
}

/* A silence or a date has no event to test or to wait for: the quiet
 * time, or the date, is the wait. */
static int check_silence(json_t *obj, const struct diag *d)
{
    static const char *const not_with[] = {"where", "delay", "unless"};
    int bad = 0;
    for (size_t i = 0; i < sizeof not_with / sizeof not_with[0]; i++)
        if (json_object_get(obj, not_with[i])) {
            errlist_diag(d, not_with[i],
                         "a silence or date trigger has no event to test or to wait for: put conditions on the "
                         "customer in if, and move the moment with the silence or the date's offset instead");
            bad = 1;
        }
    return bad ? -1 : 0;
}

/* {"max": N, "per": DURATION} or {"once": true}. */
static int load_limit(struct trigger *t, json_t *l, const struct diag *d)
{
    if (l == NULL)
        return 0;
    json_t *once = json_object_get(l, "once"), *max = json_object_get(l, "max"), *per = json_object_get(l, "per");
    if (json_is_object(l) && json_object_size(l) == 1 && json_is_true(once)) {
        t->limit_max = 1;
        return 0;
    }
    if (json_is_object(l) && json_object_size(l) == 2 && json_is_integer(max) && json_integer_value(max) > 0 &&
        json_integer_value(max) <= 100 && json_is_string(per) &&
        duration_parse(json_string_value(per), &t->limit_per_ms) == 0 && t->limit_per_ms > 0) {
        t->limit_max = json_integer_value(max);
        return 0;
    }
    errlist_diag(d, "limit",
                 "needs {\"max\": N, \"per\": DURATION} with N from 1 to 100, such as {\"max\": 1, "
                 "\"per\": \"7d\"}, or {\"once\": true}");
    return -1;
}

static int load_quiet(struct trigger *t, json_t *q, const struct diag *d)
{
    t->quiet_from = t->quiet_to = -1;
    if (q == NULL)
        return 0;
    if (json_is_object(q) && json_object_size(q) == 2) {
        t->quiet_from = date_parse_hhmm(json_string_value(json_object_get(q, "from")));
        t->quiet_to = date_parse_hhmm(json_string_value(json_object_get(q, "to")));
        if (t->quiet_from >= 0 && t->quiet_to >= 0 && t->quiet_from != t->quiet_to)
            return 0;
    }
    t->quiet_from = t->quiet_to = -1;
    errlist_diag(d, "quiet_hours",
                 "needs {\"from\": \"HH:MM\", \"to\": \"HH:MM\"} (24-hour clock, two different "
                 "times), such as {\"from\": \"22:00\", \"to\": \"08:00\"}");
    return -1;
}

/* Builds one trigger from OBJ, or NULL after reporting through a diag for FILE. */
/* Whether the trigger OBJ names customer.value_tier or value_percentile
 * anywhere (a condition, a template): its customers are ranked. */
static bool names_tiers(json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    bool uses = text && strstr(text, "customer.value_") != NULL;
    free(text);
    return uses;
}

static struct trigger *trigger_load(json_t *obj, const char *file, const struct util_files *files, struct counters *reg,
                                    struct errlist *errs, size_t index)
{
    char where_[32];
    struct diag d = {errs, file, NULL};
    snprintf(where_, sizeof where_, "[%zu]", index);
    if (!json_is_object(obj)) {
        errlist_diag(&d, where_, "a trigger must be a JSON object");
        return NULL;
    }
    json_t *id = json_object_get(obj, "id");
    if (!json_is_string(id) || !valid_id(json_string_value(id))) {
        errlist_diag(&d, where_,
                     "id is required: lower-case letters, digits, _ and -, starting with a letter "
                     "or digit, at most 64 characters");
        return NULL;
    }
    d.trigger = json_string_value(id);
    struct trigger *t = util_xcalloc(1, sizeof *t);
    t->id = util_xstrdup(d.trigger);
    json_t *desc = json_object_get(obj, "description"), *en = json_object_get(obj, "enabled");
    json_t *tr = json_object_get(obj, "transactional");
    int bad = check_keys(obj, &d);
    if (desc && !json_is_string(desc))
        bad = (errlist_diag(&d, "description", "must be a string"), 1);
    if (en && !json_is_boolean(en))
        bad = (errlist_diag(&d, "enabled", "must be true or false"), 1);
    t->enabled = en ? json_is_true(en) : 1;
    if (tr && !json_is_boolean(tr))
        bad = (errlist_diag(&d, "transactional",
                            "must be true (an order confirmation, a password mail: never capped) or false"),
               1);
    t->transactional = json_is_true(tr);
    t->info = json_pack("{s:s, s:s}", "id", t->id, "description",
                        desc && json_is_string(desc) ? json_string_value(desc) : "");
    json_t *on = json_object_get(obj, "on");
    if (on == NULL)
        bad = (errlist_diag(&d, "on", "is required: the event that starts this trigger"), 1);
    else if (source_load(&t->on, on, &d) != 0)
        bad = 1;
    if (load_conditions(t, obj, reg, &d) != 0)
        bad = 1;
    bad |= load_delay(t, json_object_get(obj, "delay"), &d) != 0;
    if (t->on.kind == SOURCE_SILENCE || t->on.kind == SOURCE_DATE)
        bad |= check_silence(obj, &d) != 0;
    bad |= load_limit(t, json_object_get(obj, "limit"), &d) != 0;
    bad |= load_quiet(t, json_object_get(obj, "quiet_hours"), &d) != 0;
    bad |= measure_load(&t->measure, json_object_get(obj, "goal"), json_object_get(obj, "holdout"), &d) != 0;
    t->uses_tiers = names_tiers(obj);
    if (load_actions(t, json_object_get(obj, "actions"), files, &d) != 0) /* report both */
        bad = 1;
    if (bad) {
        trigger_free(t);
        return NULL;
    }
    return t;
}

/* Room for one more of N elements of SIZE at *P, doubling: loading stays
 * linear in the number of triggers. */
static void grow(void *p, size_t n, size_t size)
{
    if ((n & (n - 1)) == 0) /* 0, 1, 2, 4, ...: full */
        *(void **)p = util_xrealloc(*(void **)p, (n ? 2 * n : 1) * size);
}

static void set_add(struct trigger_set *set, struct trigger *t, const char *file, struct errlist *errs)
{
    json_t *seen = json_object_get(set->ids, t->id);
    if (seen) {
        errlist_add(errs, "%s: trigger \"%s\": id: the id is already used in %s", file, t->id,
                    set->files[json_integer_value(seen)]);
        trigger_free(t);
        return;
    }
    if (set->n == TRIGGER_MAX) {
        if (!set->over_max)
            errlist_add(errs,
                        "%s: trigger \"%s\": more than %d triggers in all: split the work over processes "
                        "with their own directories",
                        file, t->id, TRIGGER_MAX);
        set->over_max = true;
        trigger_free(t);
        return;
    }
    grow(&set->t, set->n, sizeof *set->t);
    grow(&set->files, set->n, sizeof *set->files);
    json_object_set_new(set->ids, t->id, json_integer((json_int_t)set->n));
    set->t[set->n] = t;
    set->files[set->n++] = util_xstrdup(file);
}

static void load_json(struct trigger_set *set, json_t *root, const char *file, const struct util_files *files,
                      struct errlist *errs)
{
    if (json_is_array(root)) {
        size_t i;
        json_t *obj;
        json_array_foreach(root, i, obj)
        {
            struct trigger *t = trigger_load(obj, file, files, &set->counters, errs, i);
            if (t)
                set_add(set, t, file, errs);
        }
    } else {
        struct trigger *t = trigger_load(root, file, files, &set->counters, errs, 0);
        if (t)
            set_add(set, t, file, errs);
    }
}

static void report_json_error(const char *file, const json_error_t *je, struct errlist *errs)
{
    if (je->line > 0)
        errlist_add(errs, "%s:%d:%d: %s", file, je->line, je->column, je->text);
    else
        errlist_add(errs, "%s: %s", file, je->text);
}

static void bucket_add(struct bucket *b, const struct trigger *t)
{
    grow(&b->t, b->n, sizeof *b->t);
    b->t[b->n++] = t;
}

static int bucket_cmp(const void *a, const void *b)
{
    return strcmp(((const struct bucket *)a)->name, ((const struct bucket *)b)->name);
}

static struct bucket *event_bucket(const struct trigger_set *set, const char *name)
{
    struct bucket key = {name, NULL, 0};
    return set->nevents ? bsearch(&key, set->events, set->nevents, sizeof key, bucket_cmp) : NULL;
}

/* Keeps M's goal, unless a goal with its id is kept already: an event is
 * tested once against each distinct goal. */
static void add_goal(struct trigger_set *set, const struct measure *m)
{
    for (size_t i = 0; i < set->ngoals; i++)
        if (strcmp(measure_goal_id(set->goals[i]), measure_goal_id(m)) == 0)
            return;
    grow(&set->goals, set->ngoals, sizeof *set->goals);
    set->goals[set->ngoals++] = m;
}

static void build_index(struct trigger_set *set)
{
    json_t *by_name = json_object(); /* event name -> its bucket's index */
    for (size_t i = 0; i < set->n; i++) {
        const struct trigger *t = set->t[i];
        for (size_t a = 0; a < t->nactions; a++) {
            enum action_kind k = action_kind(t->actions[a]);
            set->has_effects |= k == ACTION_SCORE || k == ACTION_SET;
        }
        if (t->measure.goal)
            add_goal(set, &t->measure);
        set->uses_tiers |= t->uses_tiers || t->on.kind == SOURCE_VALUE_TIER;
        /* an order moves its customer's tier as of its moment, so their
         * events go in rounds, as for score and set (a condition on the
         * tier reads the rank after the round's orders) */
        set->has_effects |= t->on.kind == SOURCE_VALUE_TIER;
        if (t->on.kind == SOURCE_PAGE || t->on.kind == SOURCE_PAGE_GLOB) {
            bucket_add(&set->page, t);
        } else if (t->on.kind == SOURCE_SCREEN) {
            bucket_add(&set->screen, t);
        } else if (t->on.kind == SOURCE_IDENTIFY) {
            bucket_add(&set->identify, t);
        } else if (t->on.kind == SOURCE_GROUP) {
            bucket_add(&set->group, t);
        } else if (t->on.kind == SOURCE_VALUE_TIER) {
            bucket_add(&set->tiers, t);
        } else if (t->on.kind == SOURCE_SILENCE) {
            bucket_add(&set->silence, t);
        } else if (t->on.kind == SOURCE_DATE) {
            bucket_add(&set->dates, t);
        } else {
            json_t *k = json_object_get(by_name, t->on.arg);
            if (k == NULL) {
                grow(&set->events, set->nevents, sizeof *set->events);
                set->events[set->nevents] = (struct bucket){t->on.arg, NULL, 0};
                json_object_set_new(by_name, t->on.arg, k = json_integer((json_int_t)set->nevents++));
            }
            bucket_add(&set->events[json_integer_value(k)], t);
        }
    }
    json_decref(by_name);
    if (set->nevents > 1) /* qsort(NULL, 0) is undefined */
        qsort(set->events, set->nevents, sizeof *set->events, bucket_cmp);
}

/* Ends a load that began with BEFORE errors in ERRS (WHERE names the
 * file or directory): the set indexed, or NULL with the set freed. */
struct trigger_set *trigger_set_new(const struct errlist *errs)
{
    struct trigger_set *set = util_xcalloc(1, sizeof *set);
    set->ids = json_object();
    set->errs_before = errs->n;
    return set;
}

void trigger_set_add_text(struct trigger_set *set, const char *name, const char *text, const struct util_files *files,
                          struct errlist *errs)
{
    json_error_t je;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        report_json_error(name, &je, errs);
    else
        load_json(set, root, name, files, errs);
    json_decref(root);
}

struct trigger_set *trigger_set_finish(struct trigger_set *set, const char *where, struct errlist *errs)
{
    json_decref(set->ids);
    set->ids = NULL;
    set->refs = 1;
    if (errs->n == set->errs_before) {
        build_index(set);
        if (set->ngoals > TRIGGER_GOALS_MAX)
            errlist_add(errs,
                        "%s: %zu different goals (event and where) over all triggers; at most %d: let triggers "
                        "share goals",
                        where, set->ngoals, TRIGGER_GOALS_MAX);
    }
    if (errs->n > set->errs_before) {
        trigger_set_free(set);
        return NULL;
    }
    return set;
}

struct trigger_set *trigger_set_load_text(const char *name, const char *text, const struct util_files *files,
                                          struct errlist *errs)
{
    struct trigger_set *set = trigger_set_new(errs);
    trigger_set_add_text(set, name, text, files, errs);
    return trigger_set_finish(set, name, errs);
}

int trigger_set_check_timeouts(const struct trigger_set *set, int64_t below_ms, struct errlist *errs)
{
    int bad = 0;
    for (size_t i = 0; set && i < set->n; i++)
        for (size_t a = 0; a < set->t[i]->nactions; a++) {
            int64_t ms = action_timeout_ms(set->t[i]->actions[a]);
            if (ms < below_ms)
                continue;
            errlist_add(errs,
                        "%s: trigger \"%s\": actions[%zu].webhook.timeout: %lldms must be shorter than "
                        "redis.claim_idle (%lldms), or a delivery still in flight is claimed and sent again",
                        set->files[i], set->t[i]->id, a, (long long)ms, (long long)below_ms);
            bad++;
        }
    return bad;
}

struct trigger_set *trigger_set_ref(struct trigger_set *set)
{
    if (set)
        set->refs++;
    return set;
}

void trigger_set_free(struct trigger_set *set)
{
    if (set == NULL || --set->refs > 0)
        return;
    for (size_t i = 0; i < set->n; i++) {
        trigger_free(set->t[i]);
        free(set->files[i]);
    }
    free(set->t);
    free(set->files);
    for (size_t i = 0; i < set->nevents; i++)
        free(set->events[i].t);
    free(set->events);
    free(set->page.t);
    free(set->identify.t);
    free(set->screen.t);
    free(set->group.t);
    free(set->tiers.t);
    free(set->silence.t);
    free(set->dates.t);
    free(set->goals);
    counter_registry_free(&set->counters);
    free(set);
}

size_t trigger_set_count(const struct trigger_set *set)
{
    return set ? set->n : 0;
}

const struct trigger *trigger_set_get(const struct trigger_set *set, size_t i)
{
    return i < set->n ? set->t[i] : NULL;
}

bool trigger_transactional(const struct trigger *t)
{
    return t->transactional;
}

const struct measure *trigger_measure(const struct trigger *t)
{
    return &t->measure;
}

size_t trigger_set_goal_hits(const struct trigger_set *set, const struct message *msg, const struct eval_ctx *ctx,
                             char *out, size_t len)
{
    size_t n = 0, at = 0;
    for (size_t i = 0; i < set->ngoals; i++) {
        if (!measure_goal_hit(set->goals[i], msg, ctx))
            continue;
        int w = snprintf(out + at, len - at, "%s%s ", at ? "" : " ", measure_goal_id(set->goals[i]));
        if (w < 0 || (size_t)w >= len - at)
            break;
        at += (size_t)w;
        n++;
    }
    if (n == 0 && len > 0)
        out[0] = '\0';
    return n;
}

const struct trigger *trigger_set_find(const struct trigger_set *set, const char *id)
{
    for (size_t i = 0; set && i < set->n; i++)
        if (strcmp(set->t[i]->id, id) == 0)
            return set->t[i];
    return NULL;
}

static const struct bucket *bucket_for(const struct trigger_set *set, const struct message *m)
{
    switch (m->type) {
    case MESSAGE_TRACK: return event_bucket(set, m->name);
    case MESSAGE_PAGE: return &set->page;
    case MESSAGE_SCREEN: return &set->screen;
    case MESSAGE_IDENTIFY: return &set->identify;
    case MESSAGE_ALIAS:
    case MESSAGE_GROUP: return NULL;
    }
    return NULL;
}

size_t trigger_set_candidates(const struct trigger_set *set, const struct message *msg, const struct eval_ctx *ctx,
                              const struct trigger **out, size_t max)
{
    const struct bucket *b = set ? bucket_for(set, msg) : NULL;
    struct path_memo memo = {0};
    struct eval_ctx mctx = *ctx;
    size_t n = 0;
    if (mctx.memo == NULL)
        mctx.memo = &memo;
    for (size_t i = 0; b && i < b->n && n < max; i++) {
        const struct trigger *t = b->t[i];
        if (t->enabled && source_matches(&t->on, msg, &mctx) && (t->where == NULL || cond_eval(t->where, &mctx)))
            out[n++] = t;
    }
    return n;
}

bool trigger_if_holds(const struct trigger *t, const struct eval_ctx *ctx)
{
    return t->if_ == NULL || cond_eval(t->if_, ctx);
}

size_t trigger_set_match(const struct trigger_set *set, const struct message *msg, const struct eval_ctx *ctx,
                         const struct trigger **out, size_t max)
{
    size_t n = trigger_set_candidates(set, msg, ctx, out, max), kept = 0;
    for (size_t i = 0; i < n; i++)
        if (trigger_if_holds(out[i], ctx))
            out[kept++] = out[i];
    return kept;
}

const char *trigger_id(const struct trigger *t)
{
    return t->id;
}

json_t *trigger_info(const struct trigger *t)
{
    return t->info;
}

size_t trigger_action_count(const struct trigger *t)
{
    return t->nactions;
}

int trigger_render_action(const struct trigger *t, size_t i, const struct eval_ctx *ctx, struct action_out *out,
                          char *err, size_t errlen)
{
    return action_render(t->actions[i], ctx, out, err, errlen);
}

const unsigned char *trigger_webhook_secret(const struct trigger *t, size_t i, size_t *len)
{
    return i < t->nactions ? action_secret(t->actions[i], len) : NULL;
}

/* The enabled triggers of B that start on a move into NAME and whose
 * `where` holds in CTX. */
static size_t moved_into(const struct bucket *b, const char *name, const struct eval_ctx *ctx,
                         const struct trigger **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n && n < max; i++) {
        const struct trigger *t = b->t[i];
        if (t->enabled && strcmp(t->on.arg, name) == 0 && (t->where == NULL || cond_eval(t->where, ctx)))
            out[n++] = t;
    }
    return n;
}

size_t trigger_set_moved(const struct trigger_set *set, const char *group, const struct eval_ctx *ctx,
                         const struct trigger **out, size_t max)
{
    return set ? moved_into(&set->group, group, ctx, out, max) : 0;
}

size_t trigger_set_tier_moved(const struct trigger_set *set, const char *tier, const struct eval_ctx *ctx,
                              const struct trigger **out, size_t max)
{
    return set ? moved_into(&set->tiers, tier, ctx, out, max) : 0;
}

bool trigger_set_has_tier_moves(const struct trigger_set *set)
{
    return set->tiers.n > 0;
}

bool trigger_set_uses_tiers(const struct trigger_set *set)
{
    return set->uses_tiers;
}

const struct trigger *const *trigger_set_silences(const struct trigger_set *set, size_t *n)
{
    *n = set ? set->silence.n : 0;
    return set ? set->silence.t : NULL;
}

int64_t trigger_silence_due(const struct trigger *t, const struct message *m)
{
    return t->on.kind == SOURCE_SILENCE && t->enabled ? source_silence_due(&t->on, m) : -1;
}

bool trigger_silence_holds(const struct trigger *t, json_t *fields, int64_t due)
{
    return source_silence_holds(&t->on, fields, due);
}

json_t *trigger_silence_event(const struct trigger *t, int64_t due, char *mid, size_t midlen)
{
    return source_silence_event(&t->on, t->id, due, mid, midlen);
}

const struct trigger *const *trigger_set_dates(const struct trigger_set *set, size_t *n)
{
    *n = set ? set->dates.n : 0;
    return set ? set->dates.t : NULL;
}

bool trigger_date_touched(const struct trigger *t, json_t *msg)
{
    return t->on.kind == SOURCE_DATE && t->enabled && source_date_touched(&t->on, msg);
}

bool trigger_set_touches_dates(const struct trigger_set *set, json_t *msg)
{
    size_t nd;
    const struct trigger *const *dates = trigger_set_dates(set, &nd);
    for (size_t k = 0; k < nd; k++)
        if (trigger_date_touched(dates[k], msg))
            return true;
    return false;
}

int64_t trigger_date_due(const struct trigger *t, json_t *fields, const struct eval_zone *zone, int64_t after_ms)
{
    return source_date_due(&t->on, fields, zone, after_ms);
}

json_t *trigger_date_event(const struct trigger *t, int64_t due, char *mid, size_t midlen)
{
    return source_date_event(&t->on, t->id, due, mid, midlen);
}

bool trigger_set_has_effects(const struct trigger_set *set)
{
    return set && set->has_effects;
}

bool trigger_set_has_moves(const struct trigger_set *set)
{
    return set && set->group.n > 0;
}

size_t trigger_set_counters_hit(const struct trigger_set *set, const struct message *msg, const struct eval_ctx *ctx,
                                const struct counter **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; set && i < set->counters.n && n < max; i++)
        if (counter_hit(set->counters.c[i], msg, ctx))
            out[n++] = set->counters.c[i];
    return n;
}

size_t trigger_set_counter_count(const struct trigger_set *set)
{
    return set ? set->counters.n : 0;
}

int64_t trigger_wait_ms(const struct trigger *t)
{
    int64_t u = t->unless ? t->unless_ms : 0;
    return t->delay_ms > u ? t->delay_ms : u;
}

bool trigger_unless_hit(const struct trigger *t, const struct message *msg, const struct eval_ctx *ctx)
{
    return t->unless && counter_hit(t->unless, msg, ctx);
}

bool trigger_cancelled(const struct trigger *t, const struct eval_ctx *ctx, int64_t since_ms, bool strict)
{
    return t->unless && counter_count(t->unless, ctx, since_ms, strict) > 0;
}

bool trigger_limit(const struct trigger *t, int64_t *max, int64_t *per_ms)
{
    *max = t->limit_max;
    *per_ms = t->limit_per_ms;
    return t->limit_max > 0;
}

bool trigger_quiet_hours(const struct trigger *t, int *from_min, int *to_min)
{
    *from_min = t->quiet_from;
    *to_min = t->quiet_to;
    return t->quiet_from >= 0;
}

int64_t trigger_quiet_until(const struct trigger *t, int64_t now_ms, int32_t off_s)
{
    const int64_t day = 86400000;
    if (t->quiet_from < 0)
        return now_ms;
    int64_t in_day = ((now_ms + (int64_t)off_s * 1000) % day + day) % day;
    int64_t from = t->quiet_from * 60000LL, to = t->quiet_to * 60000LL;
    bool quiet = from < to ? in_day >= from && in_day < to : in_day >= from || in_day < to;
    return quiet ? now_ms + ((to - in_day) % day + day) % day : now_ms;
}

enum action_kind trigger_action_kind(const struct trigger *t, size_t i)
{
    return action_kind(t->actions[i]);
}
