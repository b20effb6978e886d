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

/* Put first in every script that uses the functions below: in Redis's
 * Lua each use of a global (redis.call, ARGV) is a table lookup, and the
 * profile script makes dozens per event; a local is a register. */
#define LOCALS_LUA "local call, argv, keys, unpack = redis.call, ARGV, KEYS, unpack\n"

/* Shared by the scripts that need the lifecycle group (SPEC 2); the same
 * rules as customer_group() in triggers/customer.c. Its inputs
 * (nudged_inputs): x is '1' (a trigger excluded the customer), the trait
 * unsubscribed is true, the time of the last order (or nil), u is '1' (a
 * message came with a userId), there is an email trait; and the last
 * order's time as text, as stored. */
#define GROUP_LUA                                                                                                      \
    "local function nudged_group_of(x, unsub, last_order, u, email, now, active)\n"                                    \
    "  if x or unsub then return 'excluded' end\n"                                                                     \
    "  if last_order then\n"                                                                                           \
    "    if now - last_order <= active then return 'active' end\n"                                                     \
    "    return 'inactive'\n"                                                                                          \
    "  end\n"                                                                                                          \
    "  if u or email then return 'potential' end\n"                                                                    \
    "  return 'interested'\n"                                                                                          \
    "end\n"                                                                                                            \
    "local function nudged_last(stats)\n"                                                                              \
    "  local s = stats and string.match(stats, '^%d+ %-?%d+ (%-?%d+)$')\n"                                             \
    "  return s and s + 0, s\n"                                                                                        \
    "end\n"                                                                                                            \
    "local function nudged_inputs(p)\n"                                                                                \
    "  local x, unsub, oc, u, email = unpack(call('HMGET', p, 'x', 't:unsubscribed',\n"                                \
    "    'e:Order Completed', 'u', 't:email'))\n"                                                                      \
    "  local last_order, last_s = nudged_last(oc)\n"                                                                   \
    "  return x == '1', unsub == 'true', last_order, u == '1', email ~= false, last_s\n"                               \
    "end\n"                                                                                                            \
    "local function nudged_group(p, now, active)\n"                                                                    \
    "  local x, unsub, last_order, u, email = nudged_inputs(p)\n"                                                      \
    "  return nudged_group_of(x, unsub, last_order, u, email, now, active)\n"                                          \
    "end\n"

/* Keeps the times in OLD at or after MIN, adds T, returns the newest KEEP
 * joined by spaces: windowed counters and limits (push_time in C). */
#define TIMES_LUA                                                                                                      \
    "local function nudged_times(old, min, t, keep)\n"                                                                 \
    "  local kept = {}\n"                                                                                              \
    "  if old then for x in string.gmatch(old, '%-?%d+') do\n"                                                         \
    "    if x + 0 >= min and #kept < 100 then kept[#kept + 1] = x end\n"                                               \
    "  end end\n"                                                                                                      \
    "  if t then kept[#kept + 1] = string.format('%d', t) end\n"                                                       \
    "  return kept, table.concat(kept, ' ', math.max(1, #kept - keep + 1))\n"                                          \
    "end\n"

/* Schedules MEMBER at DUE and remembers it in the customer's index IDX,
 * so erasing the customer can cancel it; members already moved out of the
 * schedule are dropped from the index now and then. A member that was
 * only moved (the regroup item of a customer who ordered again) is
 * already in the index. */
#define SCHEDULE_LUA                                                                                                   \
    "local function nudged_schedule(zset, idx, due, member, ttl)\n"                                                    \
    "  if call('ZADD', zset, due, member) == 0 then return end\n"                                                      \
    "  call('SADD', idx, member)\n"                                                                                    \
    "  if call('SCARD', idx) > 16 then\n"                                                                              \
    "    for _, m in ipairs(call('SRANDMEMBER', idx, 8)) do\n"                                                         \
    "      if not call('ZSCORE', zset, m) then call('SREM', idx, m) end\n"                                             \
    "    end\n"                                                                                                        \
    "  end\n"                                                                                                          \
    "  call('PEXPIRE', idx, ttl)\n"                                                                                    \
    "end\n"

/* One entry's result in a script that works on a run of entries under
 * pcall: its reply, or its error (a bad key fails that entry alone). */
#define RESULT_LUA                                                                                                     \
    "local function nudged_result(ok, r)\n"                                                                            \
    "  if ok or (type(r) == 'table' and r.err) then return r end\n"                                                    \
    "  return {err = tostring(r)}\n"                                                                                   \
    "end\n"

/* The small counts in ARGV (arguments of a firing, counters, traits) as
 * numbers by a table lookup. Redis's Lua turns a string into a number with
 * strtod, twice in tonumber(), where a lookup is a hash probe; `s + 0`
 * converts the rest with one strtod. */
#define SMALL_LUA                                                                                                      \
    "local nudged_small = {['0'] = 0, ['1'] = 1, ['2'] = 2, ['3'] = 3, ['4'] = 4, ['5'] = 5, ['6'] = 6,\n"             \
    "  ['7'] = 7, ['8'] = 8, ['9'] = 9, ['10'] = 10, ['11'] = 11, ['12'] = 12, ['-1'] = -1}\n"

/* Counts below 100 as numbers and back as text by table lookups, for the
 * profile script: Lua turns a string into a number with strtod and a
 * number into a string with sprintf("%.14g"), where a lookup is a hash
 * probe. The tables are built on every call (a script cannot keep one),
 * which a run of events shares; most of a customer's counts stay below
 * 100. */
#define COUNT_LUA                                                                                                      \
    "local nudged_num = {['0'] = 0, ['1'] = 1, ['2'] = 2, ['3'] = 3, ['4'] = 4, ['5'] = 5,\n"                          \
    "  ['6'] = 6, ['7'] = 7, ['8'] = 8, ['9'] = 9, ['10'] = 10, ['11'] = 11, ['12'] = 12,\n"                           \
    "  ['13'] = 13, ['14'] = 14, ['15'] = 15, ['16'] = 16, ['17'] = 17, ['18'] = 18, ['19'] = 19,\n"                   \
    "  ['20'] = 20, ['21'] = 21, ['22'] = 22, ['23'] = 23, ['24'] = 24, ['25'] = 25, ['26'] = 26,\n"                   \
    "  ['27'] = 27, ['28'] = 28, ['29'] = 29, ['30'] = 30, ['31'] = 31, ['32'] = 32, ['33'] = 33,\n"                   \
    "  ['34'] = 34, ['35'] = 35, ['36'] = 36, ['37'] = 37, ['38'] = 38, ['39'] = 39, ['40'] = 40,\n"                   \
    "  ['41'] = 41, ['42'] = 42, ['43'] = 43, ['44'] = 44, ['45'] = 45, ['46'] = 46, ['47'] = 47,\n"                   \
    "  ['48'] = 48, ['49'] = 49, ['50'] = 50, ['51'] = 51, ['52'] = 52, ['53'] = 53, ['54'] = 54,\n"                   \
    "  ['55'] = 55, ['56'] = 56, ['57'] = 57, ['58'] = 58, ['59'] = 59, ['60'] = 60, ['61'] = 61,\n"                   \
    "  ['62'] = 62, ['63'] = 63, ['64'] = 64, ['65'] = 65, ['66'] = 66, ['67'] = 67, ['68'] = 68,\n"                   \
    "  ['69'] = 69, ['70'] = 70, ['71'] = 71, ['72'] = 72, ['73'] = 73, ['74'] = 74, ['75'] = 75,\n"                   \
    "  ['76'] = 76, ['77'] = 77, ['78'] = 78, ['79'] = 79, ['80'] = 80, ['81'] = 81, ['82'] = 82,\n"                   \
    "  ['83'] = 83, ['84'] = 84, ['85'] = 85, ['86'] = 86, ['87'] = 87, ['88'] = 88, ['89'] = 89,\n"                   \
    "  ['90'] = 90, ['91'] = 91, ['92'] = 92, ['93'] = 93, ['94'] = 94, ['95'] = 95, ['96'] = 96,\n"                   \
    "  ['97'] = 97, ['98'] = 98, ['99'] = 99}\n"                                                                       \
    "local nudged_str = {[0] = '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12',\n"                  \
    "  '13', '14', '15', '16', '17', '18', '19', '20', '21', '22', '23', '24', '25', '26', '27',\n"                    \
    "  '28', '29', '30', '31', '32', '33', '34', '35', '36', '37', '38', '39', '40', '41', '42',\n"                    \
    "  '43', '44', '45', '46', '47', '48', '49', '50', '51', '52', '53', '54', '55', '56', '57',\n"                    \
    "  '58', '59', '60', '61', '62', '63', '64', '65', '66', '67', '68', '69', '70', '71', '72',\n"                    \
    "  '73', '74', '75', '76', '77', '78', '79', '80', '81', '82', '83', '84', '85', '86', '87',\n"                    \
    "  '88', '89', '90', '91', '92', '93', '94', '95', '96', '97', '98', '99'}\n"

/* A trait's new stored value: an object merges deeply into the stored
 * object (the new value wins inside it), anything else replaces it; as
 * customer_trait_merge() in C. */
#define TRAIT_LUA                                                                                                      \
    "local function nudged_deep(a, b)\n"                                                                               \
    "  for k, v in pairs(b) do\n"                                                                                      \
    "    if type(v) == 'table' and type(a[k]) == 'table' and next(v) ~= 1 and next(a[k]) ~= 1 then\n"                  \
    "      nudged_deep(a[k], v)\n"                                                                                     \
    "    else a[k] = v end\n"                                                                                          \
    "  end\n"                                                                                                          \
    "  return a\n"                                                                                                     \
    "end\n"                                                                                                            \
    "local function nudged_trait(p, name, val)\n"                                                                      \
    "  if string.sub(val, 1, 1) ~= '{' then return val end\n"                                                          \
    "  local old = call('HGET', p, 't:' .. name)\n"                                                                    \
    "  if not old or string.sub(old, 1, 1) ~= '{' then return val end\n"                                               \
    "  local ok1, a = pcall(cjson.decode, old)\n"                                                                      \
    "  local ok2, b = pcall(cjson.decode, val)\n"                                                                      \
    "  if not (ok1 and ok2) then return val end\n"                                                                     \
    "  return cjson.encode(nudged_deep(a, b))\n"                                                                       \
    "end\n"

/* Applies a run of events, each to its customer's profile, in one call: the
 * call's own cost is paid once per run, not per event. KEYS: the schedule,
 * then per event its customer's profile hash, dedup set, link and schedule
 * index. ARGV: 1 now, 2 dedup window, 3 profile ttl, 4 active_period, then
 * per event: message hash, the event's profile field ("e:" and its name),
 * event ts, its code (return the profile never 0, always 1, only when the
 * group moved 2; plus 3 when the message identifies the customer; plus 6
 * for an order; plus 12 per extra), and the extras, each three strings:
 * "c", a windowed counter's field and window; "t", a trait's name and
 * JSON; "z", the timezone, ""; "r", the revenue, "". Four strings for most
 * events: Redis parses each string and makes it a Lua string, so fewer
 * strings are cheaper. An order's customer id (for its regroup item)
 * is taken from the profile key, after the prefix's (brace-free) text.
 * The link (an anonymous id merged into a user) is looked up only for a
 * profile without a stored group: merging deletes the anonymous profile as
 * it writes the link, and every applied event stores the group, so a
 * profile with a group never has a link. That is one command fewer for
 * nearly every event.
 * The group's inputs (see GROUP_LUA) are kept in the field gi, as four
 * digits 0 or 1 (x, unsubscribed, u, an email trait) and then the time of
 * the last order, if any; it is written when one of them changes. So the
 * profile is read with four fields, not eight. A script that changes them otherwise (a firing's `set`, a
 * merge) deletes gi, and the next event reads the inputs themselves.
 * Strings are joined with .. rather than string.format, whose %d costs
 * Redis's Lua a sprintf (a count prints the same either way below
 * 10^14). Numbers are read from text as little
 * as possible (each is a strtod): the first time of an event name is read
 * only for an event older than the last one (first <= last, so an event
 * in order keeps it), and counts below 100 go both ways by COUNT_LUA.
 * An event is applied once: its messageId hash enters the dedup set with
 * it, scored by minus the second (dedup_score): the newest member has the
 * lowest score, so ZADD puts it at the head of the listpack instead of
 * scanning the scores to the end; the trim takes the scores above minus
 * the window's start. An order (re)schedules the customer's one regroup
 * item for when active_period runs out, so the move to inactive needs no
 * event. The group is computed after the event and stored; a change is
 * returned, so exactly one call sees each move. The dedup set is trimmed
 * to the window every 16th event of a name. The keys' time to live is set
 * again only once per period of a slack of 1/64 of the shorter of dedup
 * window and profile_ttl (the field xp holds which period last set it:
 * now / slack, compared as a string, with no number to convert), and then
 * to the slack longer: two calls fewer per event, for keys that live at
 * least profile_ttl after the last event and at most the slack longer.
 * Returns per event {applied, profile or false, group moved into or
 * false}, or only applied (1 or 0) when the other two are false (most
 * events: a smaller reply to build and to parse); or {-1, user id} when
 * the customer is an anonymous id merged into that user: nothing is
 * applied, the caller sends the event again for the user; or an error for
 * that event alone (pcall: one bad key does not stop the others). */
static const char profile_lua[] = LOCALS_LUA GROUP_LUA TIMES_LUA SCHEDULE_LUA TRAIT_LUA RESULT_LUA COUNT_LUA
    "local now, ttl, active = tonumber(ARGV[1]), tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "local now_s, dedup_min = string.format('%d', math.floor(now / 1000)), math.floor((now - tonumber(ARGV[2])) / "
    "1000)\n"
    "local trim_from = '(' .. -dedup_min\n"
    "local dedup_score = '-' .. now_s\n"
    "local dedup_ttl = math.min(tonumber(ARGV[2]), ttl)\n"
    "local slack = math.max(1, math.floor(dedup_ttl / 64))\n"
    "local xp_now = string.format('%d', math.floor(now / slack))\n"
    /* The string functions too (see LOCALS_LUA). */
    "local match, byte, sub = string.match, string.byte, string.sub\n"
    "local function nudged_cached(p, gi)\n"
    "  if gi then\n"
    "    local b1, b2, b3, b4 = byte(gi, 1, 4)\n"
    "    local last_s = #gi > 4 and sub(gi, 5) or nil\n"
    "    local last_order = last_s and tonumber(last_s)\n"
    "    if #gi == 4 or last_order then return b1 == 49, b2 == 49, last_order, b3 == 49, b4 == 49, true, last_s end\n"
    "  end\n"
    "  local x, unsub, last_order, u, email, last_s = nudged_inputs(p)\n"
    "  return x, unsub, last_order, u, email, false, last_s\n"
    "end\n"
    "local set = {}\n"
    "local function nudged_apply(p, d, a, s, i, code, x0, x1)\n"
    "  local f = argv[i + 1]\n"
    "  local cur = call('HMGET', p, f, 'g', 'gi', 'xp')\n"
    "  if not cur[2] then\n"
    "    local to = call('GET', a)\n"
    "    if to then call('PEXPIRE', a, ttl); return {-1, to} end\n"
    "  end\n"
    "  local fresh = call('ZADD', d, 'NX', dedup_score, argv[i])\n"
    "  local moved = false\n"
    "  if fresh == 1 then\n"
    "    local ts = argv[i + 2] + 0\n"
    "    local n, last, first_s, last_s = 0, ts, argv[i + 2], argv[i + 2]\n"
    "    if cur[1] then\n"
    "      local x, y, z = match(cur[1], '^(%d+) (%-?%d+) (%-?%d+)$')\n"
    "      if x then\n"
    "        local zn = z + 0\n"
    "        n = nudged_num[x] or x + 0\n"
    "        if zn <= ts then first_s = y\n"
    "        else\n"
    "          last, last_s = zn, z\n"
    "          if y + 0 < ts then first_s = y end\n"
    "        end\n"
    "      end\n"
    "    end\n"
    "    set[1], set[2], set[3] = p, f, (nudged_str[n + 1] or n + 1) .. ' ' .. first_s .. ' ' .. last_s\n"
    "    local ns = 3\n"
    "    local excl, unsub, last_order, u, email, cached, order_s = nudged_cached(p, cur[3])\n"
    "    local dirty = not cached\n"
    "    if code % 6 >= 3 and not u then set[ns + 1], set[ns + 2], ns = 'u', '1', ns + 2; u, dirty = true, true end\n"
    "    for j = x0, x1, 3 do\n"
    "      local tag, v = argv[j], argv[j + 1]\n"
    "      if tag == 'c' then\n"
    "        local _, w = nudged_times(call('HGET', p, v), ts - argv[j + 2], ts, 100)\n"
    "        set[ns + 1], set[ns + 2], ns = v, w, ns + 2\n"
    "      elseif tag == 't' then\n"
    "        set[ns + 1], set[ns + 2], ns = 't:' .. v, nudged_trait(p, v, argv[j + 2]), ns + 2\n"
    "        if v == 'unsubscribed' then unsub, dirty = argv[j + 2] == 'true', true\n"
    "        elseif v == 'email' then email, dirty = true, true end\n"
    "      elseif tag == 'z' then set[ns + 1], set[ns + 2], ns = 'tz', v, ns + 2\n"
    "      elseif tag == 'r' then call('HINCRBYFLOAT', p, 'rv', v) end\n"
    "    end\n"
    "    if code % 12 >= 6 then\n"
    "      local id = match(p, '^[^{]*{(.*)}:p$')\n"
    "      last_order, order_s, dirty = last, last_s, true\n"
    "      nudged_schedule(keys[1], s, last + active + 1, '{\"customer\":' .. cjson.encode(id) .. ',\"k\":\"g\"}', "
    "ttl)\n"
    "    end\n"
    "    local g = nudged_group_of(excl, unsub, last_order, u, email, now, active)\n"
    "    if g ~= cur[2] then set[ns + 1], set[ns + 2], ns, moved = 'g', g, ns + 2, g end\n"
    "    if dirty then\n"
    "      set[ns + 1], ns = 'gi', ns + 2\n"
    "      set[ns] = (excl and '1' or '0') .. (unsub and '1' or '0') .. (u and '1' or '0') .. (email and '1' or '0')\n"
    "        .. (order_s or '')\n"
    "    end\n"
    "    local refresh = cur[4] ~= xp_now\n"
    "    if refresh then set[ns + 1], set[ns + 2], ns = 'xp', xp_now, ns + 2 end\n"
    "    call('HSET', unpack(set, 1, ns))\n"
    "    if (n + 1) % 16 == 0 then call('ZREMRANGEBYSCORE', d, trim_from, '+inf') end\n"
    "    if refresh then\n"
    "      call('PEXPIRE', p, ttl + slack)\n"
    "      call('PEXPIRE', d, dedup_ttl + slack)\n"
    "    end\n"
    "  end\n"
    "  local want = code % 3\n"
    "  if want == 1 or (want == 2 and moved) then return {fresh, call('HGETALL', p), moved} end\n"
    "  if not moved then return fresh end\n"
    "  return {fresh, false, moved}\n"
    "end\n"
    "local out, n, i, k, pcall = {}, 0, 5, 2, pcall\n"
    "local nargv = #argv\n"
    "while i <= nargv do\n"
    "  local code = nudged_num[argv[i + 3]] or argv[i + 3] + 0\n"
    "  local x0 = i + 4\n"
    "  local x1 = x0 + (code - code % 12) / 4 - 1\n"
    "  local ok, r = pcall(nudged_apply, keys[k], keys[k + 1], keys[k + 2], keys[k + 3], i, code, x0, x1)\n"
    "  n = n + 1\n"
    "  out[n] = ok and r or nudged_result(ok, r)\n"
    "  i, k = x1 + 1, k + 4\n"
    "end\n"
    "return out\n";

/* Writes the firings of a run of entries in one call. KEYS: the actions
 * stream, the source stream, the schedule, then per entry its customer's
 * profile hash, dedup set, link and schedule index (as the profile
 * script). ARGV: 1 group, 2 now, 3 dedup window, 4 "1" to delete each entry
 * from the source (nudged's own timers stream), 5 profile ttl, then per
 * entry: its source entry id, its firing hash, the number of arguments of
 * its firings, and per firing either
 *   "l", due, item: schedule it (delay, unless); or
 *   "d", fields: a firing with one delivery due now and nothing else (no
 *   limit, score or set; most firings), seven arguments fewer than "n",
 *   each of which Redis must parse into a Lua string; or
 *   "n", limit field or "", limit max, limit per (0: ever),
 *   score points, number of trait sets, their field/value pairs, number of
 *   deliveries, and per delivery when it is due (0: now) and its fields
 *   as one JSON object: the field "delivery" of its actions entry, or a
 *   schedule item when it is postponed (quiet hours), which moves it to
 *   the actions stream when due.
 * A set deletes the group's inputs that the profile script keeps (gi): it
 * may change them.
 * The firings that act now ("d", "n") are remembered as one member of the
 * dedup set per entry, its firing hash (hashid_firing: of the messageId
 * for an event, of the trigger and messageId for a waiting firing come
 * due), not one per trigger: the entry's firings are written together with its ack,
 * so they are all done or none is, and a repeat of the message fires
 * nothing, not even a trigger loaded since. An event that fires ten
 * triggers costs one ZADD and one dedup member, not ten.
 * For each entry, remembering the firing, the limit, score and set, the
 * deliveries and the ack happen together, so a crash can neither lose a
 * firing nor repeat it. The dedup set lives the window plus the profile
 * script's slack (see there). Returns per entry {fired, limited, one
 * letter per firing: "1" fired, "0" not (a repeat or limited), "s"
 * scheduled}; or {-1, user id} when the customer was merged into that user
 * since its profile was read: nothing is written for it; or an error for
 * that entry alone. */
static const char fire_lua[] = LOCALS_LUA TIMES_LUA SCHEDULE_LUA RESULT_LUA SMALL_LUA
    "local now, ttl = tonumber(ARGV[2]), tonumber(ARGV[5])\n"
    "local dedup_score = '-' .. string.format('%d', math.floor(now / 1000))\n"
    "local dedup_ttl = math.min(tonumber(ARGV[3]), ttl)\n"
    "dedup_ttl = dedup_ttl + math.floor(dedup_ttl / 64)\n"
    "local function nudged_fire(p, d, a, s, id, h, i, last)\n"
    "  local to = call('GET', a)\n"
    "  if to then return {-1, to} end\n"
    "  local fired, limited, flags, fresh = 0, 0, {}, nil\n"
    "  while i <= last do\n"
    "    if argv[i] == 'l' then\n"
    "      nudged_schedule(keys[3], s, argv[i + 1], argv[i + 2], ttl)\n"
    "      flags[#flags + 1] = 's'\n"
    "      i = i + 3\n"
    "    else\n"
    "      if fresh == nil then fresh = call('ZADD', d, 'NX', dedup_score, h) == 1 end\n"
    "      local ok = fresh\n"
    "      if argv[i] == 'd' then\n"
    "        if ok then call('XADD', keys[1], '*', 'delivery', argv[i + 1]) end\n"
    "        i = i + 2\n"
    "      else\n"
    "        local lf, score, at = argv[i + 1], argv[i + 4], i\n"
    "        local nsets = nudged_small[argv[i + 5]] or argv[i + 5] + 0\n"
    "        local sets = {p}\n"
    "        i = i + 6\n"
    "        for _ = 1, nsets do sets[#sets + 1] = argv[i]; sets[#sets + 1] = argv[i + 1]; i = i + 2 end\n"
    "        if ok and lf ~= '' then\n"
    "          local max, per, min = argv[at + 2] + 0, argv[at + 3] + 0, -math.huge\n"
    "          if per > 0 then min = now - per end\n"
    "          local kept, v = nudged_times(call('HGET', p, lf), min, now, max)\n"
    "          if #kept > max then ok = false; limited = limited + 1\n"
    "          else call('HSET', p, lf, v) end\n"
    "        end\n"
    "        if ok and score ~= '0' then call('HINCRBY', p, 'sc', score) end\n"
    "        if ok and nsets > 0 then call('HSET', unpack(sets)); call('HDEL', p, 'gi') end\n"
    "        local nact = nudged_small[argv[i]] or argv[i] + 0\n"
    "        i = i + 1\n"
    "        for _ = 1, nact do\n"
    "          if ok and argv[i] ~= '0' then nudged_schedule(keys[3], s, argv[i], argv[i + 1], ttl)\n"
    "          elseif ok then call('XADD', keys[1], '*', 'delivery', argv[i + 1]) end\n"
    "          i = i + 2\n"
    "        end\n"
    "      end\n"
    "      if ok then fired = fired + 1 end\n"
    "      flags[#flags + 1] = ok and '1' or '0'\n"
    "    end\n"
    "  end\n"
    "  if fresh then call('PEXPIRE', d, dedup_ttl) end\n"
    "  call('XACK', keys[2], argv[1], id)\n"
    "  if argv[4] == '1' then call('XDEL', keys[2], id) end\n"
    "  return {fired, limited, table.concat(flags)}\n"
    "end\n"
    "local out, n, i, k, nargv, pcall = {}, 0, 6, 4, #argv, pcall\n"
    "while i <= nargv do\n"
    "  local nf = argv[i + 2] + 0\n"
    "  local ok, r = pcall(nudged_fire, keys[k], keys[k + 1], keys[k + 2], keys[k + 3], argv[i], argv[i + 1], i + 3,\n"
    "                      i + 2 + nf)\n"
    "  n = n + 1\n"
    "  out[n] = ok and r or nudged_result(ok, r)\n"
    "  i, k = i + 3 + nf, k + 4\n"
    "end\n"
    "return out\n";

/* KEYS: rejected stream, events stream. ARGV: group, entry id, message, error. */
static const char reject_lua[] =
    "redis.call('XADD', KEYS[1], 'MAXLEN', '~', 100000, '*', 'message', ARGV[3], 'error', ARGV[4], 'id', ARGV[2])\n"
    "return redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])\n";

/* KEYS: actions stream, schedule zset, the customer's schedule index.
 * ARGV: group, entry id, due, item, profile ttl. */
static const char retry_lua[] = LOCALS_LUA SCHEDULE_LUA "nudged_schedule(KEYS[2], KEYS[3], ARGV[3], ARGV[4], ARGV[5])\n"
                                                        "redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])\n"
                                                        "return redis.call('XDEL', KEYS[1], ARGV[2])\n";

/* KEYS: actions stream, dead stream. ARGV: group, entry id, field/value pairs. */
static const char dead_lua[] = "local args = {KEYS[2], 'MAXLEN', '~', 100000, '*'}\n"
                               "for i = 3, #ARGV do args[#args + 1] = ARGV[i] end\n"
                               "redis.call('XADD', unpack(args))\n"
                               "redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])\n"
                               "return redis.call('XDEL', KEYS[1], ARGV[2])\n";

/* KEYS: schedule zset, actions stream, timers stream. ARGV: now, limit.
 * Each item is a JSON object of string fields: a delivery to retry or
 * postponed, which goes to the actions stream as it is (its "delivery"
 * field), or (with "k": "t") a waiting firing, or ("k": "g") a customer
 * whose group is due to be computed again; those two go to the timers
 * stream as fields, with their "due" time. Moving is atomic, so when many
 * processes run this, each due item moves exactly once. */
static const char due_lua[] =
    "local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0,\n"
    "  tonumber(ARGV[2]))\n"
    "for n = 1, #items, 2 do\n"
    "  local m = items[n]\n"
    "  local ok, f = pcall(cjson.decode, m)\n"
    "  if ok and type(f) == 'table' then\n"
    "    if f.k == 't' or f.k == 'g' then\n"
    "      local args = {KEYS[3], '*'}\n"
    "      f.due = items[n + 1]\n"
    "      for k, v in pairs(f) do args[#args + 1] = k; args[#args + 1] = tostring(v) end\n"
    "      redis.call('XADD', unpack(args))\n"
    "    else\n"
    "      redis.call('XADD', KEYS[2], '*', 'delivery', m)\n"
    "    end\n"
    "  end\n"
    "  redis.call('ZREM', KEYS[1], m)\n"
    "end\n"
    "return #items / 2\n";

/* KEYS: source stream, target stream. ARGV: group, entry id, reason, "1" to
 * delete it from the source. Copies the entry with "error" and "id" added
 * (a delivery's JSON as its fields, as a dead delivery has them), then
 * acks it (and deletes it from nudged's own actions stream; the events
 * stream belongs to the producers and other groups may still read it). */
static const char bury_lua[] =
    "local e = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])\n"
    "if e[1] then\n"
    "  local args = {KEYS[2], 'MAXLEN', '~', 100000, '*'}\n"
    "  local f = e[1][2]\n"
    "  local function put(k, v) if k ~= 'error' and k ~= 'id' then args[#args + 1] = k; args[#args + 1] = v end end\n"
    "  for i = 1, #f, 2 do\n"
    "    local ok, d = false, nil\n"
    "    if f[i] == 'delivery' then ok, d = pcall(cjson.decode, f[i + 1]) end\n"
    "    if ok and type(d) == 'table' then\n"
    "      for k, v in pairs(d) do put(k, tostring(v)) end\n"
    "    else put(f[i], f[i + 1]) end\n"
    "  end\n"
    "  args[#args + 1] = 'error'; args[#args + 1] = ARGV[3]\n"
    "  args[#args + 1] = 'id'; args[#args + 1] = ARGV[2]\n"
    "  redis.call('XADD', unpack(args))\n"
    "end\n"
    "redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])\n"
    "if ARGV[4] == '1' then redis.call('XDEL', KEYS[1], ARGV[2]) end\n"
    "return 1\n";

/* KEYS: 1-4 the anonymous id's profile, dedup set, schedule index and
 * link; 5-8 the user's profile, dedup set, schedule index and merged-ids
 * set; 9 the schedule; 10 the user's own link. ARGV: anonymous id, user
 * id, profile ttl. Folds the
 * anonymous history into the user (customer_merge in triggers/customer.c
 * does the same for replay), moves its scheduled items, deletes its keys
 * and links the anonymous id to the user, all at once (a member in both
 * dedup sets keeps the lower score: the newer second, see the profile
 * script); the user's
 * kept group inputs (gi, see the profile script) are deleted. An id already
 * linked, or a user that is itself linked elsewhere, is left alone.
 * Returns {merged (0 or 1), scheduled items moved}. Touches two customers'
 * slots: not Redis Cluster safe. */
static const char merge_lua[] =
    "if redis.call('EXISTS', KEYS[4]) == 1 or redis.call('EXISTS', KEYS[10]) == 1 then return {0, 0} end\n"
    "local from, moved = redis.call('HGETALL', KEYS[1]), 0\n"
    "if #from > 0 then\n"
    "  local into, cur = {}, redis.call('HGETALL', KEYS[5])\n"
    "  for i = 1, #cur, 2 do into[cur[i]] = cur[i + 1] end\n"
    "  local set = {KEYS[5]}\n"
    "  local function put(k, v) set[#set + 1] = k; set[#set + 1] = v end\n"
    "  local function times(a, b)\n"
    "    local t, out = {}, {}\n"
    "    for x in string.gmatch((a or '') .. ' ' .. (b or ''), '%-?%d+') do t[#t + 1] = tonumber(x) end\n"
    "    table.sort(t)\n"
    "    for i = math.max(1, #t - 99), #t do out[#out + 1] = string.format('%d', t[i]) end\n"
    "    return table.concat(out, ' ')\n"
    "  end\n"
    "  for i = 1, #from, 2 do\n"
    "    local k, v = from[i], from[i + 1]\n"
    "    local u, p = into[k], string.sub(k, 1, 2)\n"
    "    local a1, b1, c1, a2, b2, c2\n"
    "    if p == 'e:' and u then\n"
    "      a1, b1, c1 = string.match(v, '^(%d+) (%-?%d+) (%-?%d+)$')\n"
    "      a2, b2, c2 = string.match(u, '^(%d+) (%-?%d+) (%-?%d+)$')\n"
    "    end\n"
    "    if a1 and a2 then put(k, string.format('%d %d %d', a1 + a2, math.min(b1, b2), math.max(c1, c2)))\n"
    "    elseif p == 'w:' or p == 'l:' then put(k, times(v, u))\n"

    "    elseif k == 'xp' or k == 'gi' then\n"
    "    elseif (k == 'u' or k == 'x') and v == '1' then put(k, '1')\n"
    "    elseif k == 'rv' and u then put(k, string.format('%.15g', tonumber(v) + tonumber(u)))\n"
    "    elseif k == 'sc' and u then put(k, string.format('%d', tonumber(v) + tonumber(u)))\n"
    "    elseif not u then put(k, v) end\n"
    "  end\n"
    "  if #set > 1 then redis.call('HSET', unpack(set)) end\n"
    "  redis.call('HDEL', KEYS[5], 'gi')\n"
    "  redis.call('ZUNIONSTORE', KEYS[6], 2, KEYS[6], KEYS[2], 'AGGREGATE', 'MIN')\n"
    "  for _, m in ipairs(redis.call('SMEMBERS', KEYS[3])) do\n"
    "    local score = redis.call('ZSCORE', KEYS[9], m)\n"
    "    local ok, item = pcall(cjson.decode, m)\n"
    "    if score and ok and type(item) == 'table' then\n"
    "      item.customer = ARGV[2]\n"
    "      local nm = cjson.encode(item)\n"
    "      redis.call('ZREM', KEYS[9], m)\n"
    "      redis.call('ZADD', KEYS[9], score, nm)\n"
    "      redis.call('SADD', KEYS[7], nm)\n"
    "      moved = moved + 1\n"
    "    end\n"
    "  end\n"
    "  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])\n"
    "  for k = 5, 7 do redis.call('PEXPIRE', KEYS[k], ARGV[3]) end\n"
    "end\n"
    "redis.call('SET', KEYS[4], ARGV[2], 'PX', ARGV[3])\n"
    "redis.call('SADD', KEYS[8], ARGV[1])\n"
    "redis.call('PEXPIRE', KEYS[8], ARGV[3])\n"
    "return {1, moved}\n";

/* KEYS: profile hash. ARGV: now, active_period. Computes the group again
 * with only time passing (an active customer's period ran out). Returns
 * {group moved into or false, the profile or false}. */
static const char regroup_lua[] =
    LOCALS_LUA GROUP_LUA "if redis.call('EXISTS', KEYS[1]) == 0 then return {false, false} end\n"
                         "local g = nudged_group(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))\n"
                         "if g == redis.call('HGET', KEYS[1], 'g') then return {false, false} end\n"
                         "redis.call('HSET', KEYS[1], 'g', g)\n"
                         "return {g, redis.call('HGETALL', KEYS[1])}\n";

/* KEYS: profile hash, dedup zset, schedule index, merged-ids set, schedule
 * zset. ARGV: key prefix. Erases the customer (GDPR art. 17): every key,
 * every scheduled item (waiting firings, retries, postponed emails) and
 * the links of anonymous ids merged into it. Returns {keys deleted,
 * scheduled items removed, anonymous links removed}. The links are named
 * from the merged-ids set, so this script is not Redis Cluster safe. */
static const char forget_lua[] =
    "local removed = 0\n"
    "for _, m in ipairs(redis.call('SMEMBERS', KEYS[3])) do removed = removed + redis.call('ZREM', KEYS[5], m) end\n"
    "local anons = redis.call('SMEMBERS', KEYS[4])\n"
    "for _, a in ipairs(anons) do redis.call('DEL', ARGV[1] .. '{' .. a .. '}:a') end\n"
    "return {redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4]), removed, #anons}\n";

/* KEYS: a stream. ARGV: its group, and optionally the oldest id to keep
 * by age. Trims the entries the group has read (below its
 * last-delivered-id) and acked (below its oldest pending entry), and older
 * than ARGV[2] when given: what XDEL of each would do, at the cost of
 * removing whole stream nodes (~), so up to a node's worth of entries stay.
 * A pending entry is never removed: a process that crashed while sending
 * it leaves it for another to claim. Returns the number removed. */
static const char trim_lua[] =
    "local last\n"
    "for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do\n"
    "  local f = {}\n"
    "  for i = 1, #g, 2 do f[g[i]] = g[i + 1] end\n"
    "  if f['name'] == ARGV[1] then last = f['last-delivered-id'] end\n"
    "end\n"
    "if not last then return 0 end\n"
    "local pending = redis.call('XPENDING', KEYS[1], ARGV[1])\n"
    "local floor = pending[1] > 0 and pending[2] or last\n"
    "if ARGV[2] then\n"
    "  local fm, fs = string.match(floor, '(%d+)-(%d+)')\n"
    "  local am = tonumber(string.match(ARGV[2], '(%d+)-'))\n"
    "  if am < tonumber(fm) or (am == tonumber(fm) and tonumber(fs) > 0) then floor = ARGV[2] end\n"
    "end\n"
    "return redis.call('XTRIM', KEYS[1], 'MINID', '~', floor)\n";

/* KEYS: dead stream, actions stream. ARGV: the first id to look at, the
 * trigger to take ("" for all), "1" for a dry run, how many to look at.
 * Each dead delivery of that trigger from that id on goes back to the
 * actions stream as the one field "delivery" (a JSON object of its
 * fields: its "d", the same webhook-id; attempt 1, left out as the
 * default; no status or error), and leaves the dead stream in the same
 * step: two redrives never send one twice. Returns {the id to go on from, or "" at
 * the end, {id, trigger, kind, d, status, error} of each one moved}. */
static const char redrive_lua[] =
    "local entries = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', tonumber(ARGV[4]))\n"
    "local moved = {}\n"
    "for _, e in ipairs(entries) do\n"
    "  local f = {}\n"
    "  for i = 1, #e[2], 2 do f[e[2][i]] = e[2][i + 1] end\n"
    "  if ARGV[2] == '' or f.trigger == ARGV[2] then\n"
    "    moved[#moved + 1] = {e[1], f.trigger or '', f.kind or '', f.d or '', f.status or '', f.error or ''}\n"
    "    if ARGV[3] ~= '1' then\n"
    "      f.status, f.error, f.attempt = nil, nil, nil\n"
    "      redis.call('XADD', KEYS[2], '*', 'delivery', cjson.encode(f))\n"
    "      redis.call('XDEL', KEYS[1], e[1])\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local next = ''\n"
    "if #entries == tonumber(ARGV[4]) then next = '(' .. entries[#entries][1] end\n"
    "return {next, moved}\n";

static const char *const sources[SCRIPT_COUNT] = {profile_lua, fire_lua,    reject_lua, retry_lua,
                                                  dead_lua,    due_lua,     bury_lua,   forget_lua,
                                                  merge_lua,   regroup_lua, trim_lua,   redrive_lua};

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

void scripts_begin_eval(struct cmd *c, enum script_id id, int nkeys)
{
    cmd_reset(c);
    cmd_adds(c, "EVAL");
    cmd_adds(c, sources[id]);
    cmd_addi(c, nkeys);
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
    static const char *const transient[] = {"NOSCRIPT", "OOM",      "LOADING",     "BUSY",      "MASTERDOWN",
                                            "READONLY", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS"};
    for (size_t i = 0; i < sizeof transient / sizeof transient[0]; i++)
        if (strncmp(err, transient[i], strlen(transient[i])) == 0)
            return true;
    return false;
}
