/* scripts.c — the Lua that keeps every Redis step atomic.
 *
 * Each script touches one customer's keys (hash-tagged {id}) plus, where the
 * step must be atomic with an acknowledgement, nudged's own streams. Times
 * are passed in (ms since the epoch) so the scripts stay deterministic.
 */
#include "scripts.h"
#include "log.h"

#include <hiredis/hiredis.h>
#include <string.h>

/* KEYS: profile hash, dedup zset. ARGV: message hash, event name, event ts,
 * now, dedup window, profile ttl, "1" to return the profile, then trait
 * name/JSON value pairs. An event is applied once: its messageId hash enters
 * the dedup set with it. Per event name one field "e:NAME" = "count first
 * last" keeps the hash compact; the dedup set is trimmed to the window every
 * 16th event of a name (it also expires with the window). Returns {applied, profile or false}; the
 * profile (HGETALL) only when asked, as most events start no trigger. */
static const char profile_lua[] =
    "local fresh = redis.call('ZADD', KEYS[2], 'NX', ARGV[4], ARGV[1])\n"
    "if fresh == 1 then\n"
    "  local ts = tonumber(ARGV[3])\n"
    "  local f = 'e:' .. ARGV[2]\n"
    "  local cur = redis.call('HMGET', KEYS[1], f, 'fs', 'ls')\n"
    "  local n, first, last = 0, ts, ts\n"
    "  if cur[1] then\n"
    "    local a, b, c = string.match(cur[1], '^(%d+) (%-?%d+) (%-?%d+)$')\n"
    "    if a then n = tonumber(a); first = math.min(tonumber(b), ts); last = math.max(tonumber(c), ts) end\n"
    "  end\n"
    "  local fs = math.min(tonumber(cur[2] or ts), ts)\n"
    "  local ls = math.max(tonumber(cur[3] or ts), ts)\n"
    "  local set = {KEYS[1], f, string.format('%d %d %d', n + 1, first, last),\n"
    "               'fs', string.format('%d', fs), 'ls', string.format('%d', ls)}\n"
    "  for i = 8, #ARGV, 2 do set[#set + 1] = 't:' .. ARGV[i]; set[#set + 1] = ARGV[i + 1] end\n"
    "  redis.call('HSET', unpack(set))\n"
    "  if (n + 1) % 16 == 0 then\n"
    "    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[4]) - tonumber(ARGV[5]))\n"
    "  end\n"
    "  redis.call('PEXPIRE', KEYS[1], ARGV[6])\n"
    "  redis.call('PEXPIRE', KEYS[2], ARGV[5])\n"
    "end\n"
    "if ARGV[7] == '1' then return {fresh, redis.call('HGETALL', KEYS[1])} end\n"
    "return {fresh, false}\n";

/* KEYS: dedup zset, actions stream, events stream. ARGV: group, entry id,
 * now, dedup window, then per firing: firing hash, number of deliveries,
 * and per delivery: number of field/value strings, then those strings.
 * Writing deliveries, remembering the firing and acking the event happen
 * together, so a crash can neither lose a firing nor repeat it. */
static const char fire_lua[] =
    "local i, fired = 5, 0\n"
    "while i <= #ARGV do\n"
    "  local fresh = redis.call('ZADD', KEYS[1], 'NX', ARGV[3], ARGV[i])\n"
    "  local nact = tonumber(ARGV[i + 1])\n"
    "  i = i + 2\n"
    "  for a = 1, nact do\n"
    "    local nf = tonumber(ARGV[i])\n"
    "    if fresh == 1 then\n"
    "      local args = {KEYS[2], '*'}\n"
    "      for k = 1, nf do args[k + 2] = ARGV[i + k] end\n"
    "      redis.call('XADD', unpack(args))\n"
    "    end\n"
    "    i = i + nf + 1\n"
    "  end\n"
    "  if fresh == 1 then fired = fired + 1 end\n"
    "end\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[4])\n"
    "redis.call('XACK', KEYS[3], ARGV[1], ARGV[2])\n"
    "return fired\n";

/* KEYS: rejected stream, events stream. ARGV: group, entry id, message, error. */
static const char reject_lua[] =
    "redis.call('XADD', KEYS[1], 'MAXLEN', '~', 100000, '*', 'message', ARGV[3], 'error', ARGV[4], 'id', ARGV[2])\n"
    "return redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])\n";

/* KEYS: actions stream, schedule zset. ARGV: group, entry id, due, item. */
static const char retry_lua[] =
    "redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])\n"
    "redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])\n"
    "return redis.call('XDEL', KEYS[1], ARGV[2])\n";

/* KEYS: actions stream, dead stream. ARGV: group, entry id, field/value pairs. */
static const char dead_lua[] =
    "local args = {KEYS[2], 'MAXLEN', '~', 100000, '*'}\n"
    "for i = 3, #ARGV do args[#args + 1] = ARGV[i] end\n"
    "redis.call('XADD', unpack(args))\n"
    "redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])\n"
    "return redis.call('XDEL', KEYS[1], ARGV[2])\n";

/* KEYS: schedule zset, actions stream. ARGV: now, limit. Each item is a JSON
 * object of string fields; moving it is atomic, so when many processes run
 * this, each due item is moved exactly once. */
static const char due_lua[] =
    "local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))\n"
    "for _, m in ipairs(items) do\n"
    "  local ok, f = pcall(cjson.decode, m)\n"
    "  if ok and type(f) == 'table' then\n"
    "    local args = {KEYS[2], '*'}\n"
    "    for k, v in pairs(f) do args[#args + 1] = k; args[#args + 1] = tostring(v) end\n"
    "    redis.call('XADD', unpack(args))\n"
    "  end\n"
    "  redis.call('ZREM', KEYS[1], m)\n"
    "end\n"
    "return #items\n";

/* KEYS: source stream, target stream. ARGV: group, entry id, reason, "1" to
 * delete it from the source. Copies the entry with "error" and "id" added,
 * then acks it (and deletes it from nudged's own actions stream; the events
 * stream belongs to the producers and other groups may still read it). */
static const char bury_lua[] =
    "local e = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])\n"
    "if e[1] then\n"
    "  local args = {KEYS[2], 'MAXLEN', '~', 100000, '*'}\n"
    "  local f = e[1][2]\n"
    "  for i = 1, #f, 2 do\n"
    "    if f[i] ~= 'error' and f[i] ~= 'id' then args[#args + 1] = f[i]; args[#args + 1] = f[i + 1] end\n"
    "  end\n"
    "  args[#args + 1] = 'error'; args[#args + 1] = ARGV[3]\n"
    "  args[#args + 1] = 'id'; args[#args + 1] = ARGV[2]\n"
    "  redis.call('XADD', unpack(args))\n"
    "end\n"
    "redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])\n"
    "if ARGV[4] == '1' then redis.call('XDEL', KEYS[1], ARGV[2]) end\n"
    "return 1\n";

static const char *const sources[SCRIPT_COUNT] = {profile_lua, fire_lua, reject_lua,
                                                  retry_lua, dead_lua, due_lua, bury_lua};

static void on_loaded(redisAsyncContext *ac, void *r, void *priv)
{
    struct scripts *s = ((struct scripts_req *)priv)->s;
    int id = ((struct scripts_req *)priv)->id;
    redisReply *reply = r;
    (void)ac;
    if (reply && reply->type == REDIS_REPLY_STRING && reply->len == 40) {
        memcpy(s->sha[id], reply->str, 41);
        s->loaded++;
    } else {
        log_error("SCRIPT LOAD failed", "error", reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no reply");
        s->failed = true;
    }
    if (--s->outstanding == 0)
        s->done(s->data, !s->failed);
}

int scripts_load(struct scripts *s, struct rconn *rc, void (*done)(void *data, bool ok), void *data)
{
    s->done = done;
    s->data = data;
    s->loaded = 0;
    s->failed = false;
    s->outstanding = 0;
    for (int i = 0; i < SCRIPT_COUNT; i++) {
        s->reqs[i] = (struct scripts_req){s, i};
        if (rconn_sendf(rc, on_loaded, &s->reqs[i], "SCRIPT LOAD %s", sources[i]) != 0) {
            s->failed = true;
            return s->outstanding ? 0 : -1;
        }
        s->outstanding++;
    }
    return 0;
}

void scripts_begin(struct cmd *c, const struct scripts *s, enum script_id id, int nkeys)
{
    cmd_reset(c);
    cmd_adds(c, "EVALSHA");
    cmd_add(c, s->sha[id], 40);
    cmd_addi(c, nkeys);
}

bool scripts_transient_error(const char *err)
{
    static const char *const transient[] = {"NOSCRIPT", "OOM", "LOADING", "BUSY", "MASTERDOWN",
                                            "READONLY", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS"};
    for (size_t i = 0; i < sizeof transient / sizeof transient[0]; i++)
        if (strncmp(err, transient[i], strlen(transient[i])) == 0)
            return true;
    return false;
}
