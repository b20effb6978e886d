-- uses: locals group times schedule trait result count
-- Applies a run of events, each to its customer's profile, in one call: the
-- call's own cost is paid once per run, not per event. KEYS: the schedule,
-- the buyers zset (a first order puts its customer there, and an order
-- with revenue moves them, scored by revenue: value tiers rank it), then
-- per event its customer's profile hash, dedup set, link and schedule
-- index. ARGV: 1 now, 2 dedup window, 3 profile ttl, 4 active_period, then
-- per event: message hash, the event's profile field ("e:" and its name),
-- event ts, its code (return the profile never 0, always 1, only when the
-- group moved 2; plus 3 when the message identifies the customer; plus 6
-- for an order; plus 12 per extra), and the extras, each three strings:
-- "c", a windowed counter's field and window; "t", a trait's name and
-- JSON; "z", the timezone, ""; "r", the revenue, "". Four strings for most
-- events: Redis parses each string and makes it a Lua string, so fewer
-- strings are cheaper. An order's customer id (for its regroup item)
-- is taken from the profile key, after the prefix's (brace-free) text.
-- The link (an anonymous id merged into a user) is looked up only for a
-- profile without a stored group: merging deletes the anonymous profile as
-- it writes the link, and every applied event stores the group, so a
-- profile with a group never has a link. That is one command fewer for
-- nearly every event.
-- The group's inputs (see lib-group.lua) are kept in the field gi, as four
-- digits 0 or 1 (x, unsubscribed, u, an email trait) and then the time of
-- the last order, if any; it is written when one of them changes. So the
-- profile is read with four fields, not eight. A script that changes them otherwise (a firing's `set`, a
-- merge) deletes gi, and the next event reads the inputs themselves.
-- Strings are joined with .. rather than string.format, whose %d costs
-- Redis's Lua a sprintf (a count prints the same either way below
-- 10^14). Numbers are read from text as little
-- as possible (each is a strtod): the first time of an event name is read
-- only for an event older than the last one (first <= last, so an event
-- in order keeps it), and counts below 100 go both ways by lib-count.lua.
-- An event is applied once: its messageId hash enters the dedup set with
-- it, scored by minus the second (dedup_score): the newest member has the
-- lowest score, so ZADD puts it at the head of the listpack instead of
-- scanning the scores to the end; the trim takes the scores above minus
-- the window's start. An order (re)schedules the customer's one regroup
-- item for when active_period runs out, so the move to inactive needs no
-- event. The group is computed after the event and stored; a change is
-- returned, so exactly one call sees each move. The dedup set is trimmed
-- to the window every 16th event of a name. The keys' time to live is set
-- again only once per period of a slack of 1/64 of the shorter of dedup
-- window and profile_ttl (the field xp holds which period last set it:
-- now / slack, compared as a string, with no number to convert), and then
-- to the slack longer: two calls fewer per event, for keys that live at
-- least profile_ttl after the last event and at most the slack longer.
-- Returns per event {applied, profile or false, group moved into or
-- false}, or only applied (1 or 0) when the other two are false (most
-- events: a smaller reply to build and to parse); or {-1, user id} when
-- the customer is an anonymous id merged into that user: nothing is
-- applied, the caller sends the event again for the user; or an error for
-- that event alone (pcall: one bad key does not stop the others).
local now, ttl, active = tonumber(ARGV[1]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now_s, dedup_min = string.format('%d', math.floor(now / 1000)), math.floor((now - tonumber(ARGV[2])) / 1000)
local trim_from = '(' .. -dedup_min
local dedup_score = '-' .. now_s
local dedup_ttl = math.min(tonumber(ARGV[2]), ttl)
local slack = math.max(1, math.floor(dedup_ttl / 64))
local xp_now = string.format('%d', math.floor(now / slack))
-- The string functions too (see lib-locals.lua).
local match, byte, sub = string.match, string.byte, string.sub
local function nudged_cached(p, gi)
  if gi then
    local b1, b2, b3, b4 = byte(gi, 1, 4)
    local last_s = #gi > 4 and sub(gi, 5) or nil
    local last_order = last_s and tonumber(last_s)
    if #gi == 4 or last_order then return b1 == 49, b2 == 49, last_order, b3 == 49, b4 == 49, true, last_s end
  end
  local x, unsub, last_order, u, email, last_s = nudged_inputs(p)
  return x, unsub, last_order, u, email, false, last_s
end
local set = {}
local function nudged_apply(p, d, a, s, i, code, x0, x1)
  local f = argv[i + 1]
  local cur = call('HMGET', p, f, 'g', 'gi', 'xp')
  if not cur[2] then
    local to = call('GET', a)
    if to then call('PEXPIRE', a, ttl); return {-1, to} end
  end
  local fresh = call('ZADD', d, 'NX', dedup_score, argv[i])
  local moved = false
  if fresh == 1 then
    local ts = argv[i + 2] + 0
    local n, last, first_s, last_s = 0, ts, argv[i + 2], argv[i + 2]
    if cur[1] then
      local x, y, z = match(cur[1], '^(%d+) (%-?%d+) (%-?%d+)$')
      if x then
        local zn = z + 0
        n = nudged_num[x] or x + 0
        if zn <= ts then first_s = y
        else
          last, last_s = zn, z
          if y + 0 < ts then first_s = y end
        end
      end
    end
    set[1], set[2], set[3] = p, f, (nudged_str[n + 1] or n + 1) .. ' ' .. first_s .. ' ' .. last_s
    local ns, revenue = 3, nil
    local excl, unsub, last_order, u, email, cached, order_s = nudged_cached(p, cur[3])
    local dirty = not cached
    if code % 6 >= 3 and not u then set[ns + 1], set[ns + 2], ns = 'u', '1', ns + 2; u, dirty = true, true end
    for j = x0, x1, 3 do
      local tag, v = argv[j], argv[j + 1]
      if tag == 'c' then
        local _, w = nudged_times(call('HGET', p, v), ts - argv[j + 2], ts, 100)
        set[ns + 1], set[ns + 2], ns = v, w, ns + 2
      elseif tag == 't' then
        set[ns + 1], set[ns + 2], ns = 't:' .. v, nudged_trait(p, v, argv[j + 2]), ns + 2
        if v == 'unsubscribed' then unsub, dirty = argv[j + 2] == 'true', true
        elseif v == 'email' then email, dirty = true, true end
      elseif tag == 'z' then set[ns + 1], set[ns + 2], ns = 'tz', v, ns + 2
      elseif tag == 'r' then revenue = call('HINCRBYFLOAT', p, 'rv', v) end
    end
    if code % 12 >= 6 then
      local id = match(p, '^[^{]*{(.*)}:p$')
      last_order, order_s, dirty = last, last_s, true
      nudged_schedule(keys[1], s, last + active + 1, '{"customer":' .. cjson.encode(id) .. ',"k":"g"}', ttl)
      -- an order without revenue leaves the buyer's score as it is
      if revenue then call('ZADD', keys[2], revenue, id)
      elseif n == 0 then call('ZADD', keys[2], call('HGET', p, 'rv') or 0, id) end
    end
    local g = nudged_group_of(excl, unsub, last_order, u, email, now, active)
    if g ~= cur[2] then set[ns + 1], set[ns + 2], ns, moved = 'g', g, ns + 2, g end
    if dirty then
      set[ns + 1], ns = 'gi', ns + 2
      set[ns] = (excl and '1' or '0') .. (unsub and '1' or '0') .. (u and '1' or '0') .. (email and '1' or '0')
        .. (order_s or '')
    end
    local refresh = cur[4] ~= xp_now
    if refresh then set[ns + 1], set[ns + 2], ns = 'xp', xp_now, ns + 2 end
    call('HSET', unpack(set, 1, ns))
    if (n + 1) % 16 == 0 then call('ZREMRANGEBYSCORE', d, trim_from, '+inf') end
    if refresh then
      call('PEXPIRE', p, ttl + slack)
      call('PEXPIRE', d, dedup_ttl + slack)
    end
  end
  local want = code % 3
  if want == 1 or (want == 2 and moved) then return {fresh, call('HGETALL', p), moved} end
  if not moved then return fresh end
  return {fresh, false, moved}
end
local out, n, i, k, pcall = {}, 0, 5, 3, pcall
local nargv = #argv
while i <= nargv do
  local code = nudged_num[argv[i + 3]] or argv[i + 3] + 0
  local x0 = i + 4
  local x1 = x0 + (code - code % 12) / 4 - 1
  local ok, r = pcall(nudged_apply, keys[k], keys[k + 1], keys[k + 2], keys[k + 3], i, code, x0, x1)
  n = n + 1
  out[n] = ok and r or nudged_result(ok, r)
  i, k = x1 + 1, k + 4
end
return out
