-- uses: locals times schedule result small
-- Writes the firings of a run of entries in one call. KEYS: the actions
-- stream, the source stream, the schedule, the measures hash, then per
-- entry its customer's profile hash, dedup set, link and schedule index
-- (as the profile script). ARGV: 1 group, 2 now, 3 dedup window, 4 "1" to delete each entry
-- from the source (nudged's own timers stream), 5 profile ttl, then per
-- entry: its source entry id, its firing hash, the number of arguments of
-- its conversions and firings, then per conversion (include/measure.h)
--   "c", trigger, lo, hi: the customer's record "o:TRIGGER" of a firing
--   at MS converts when lo <= MS < hi (the window measure_window says):
--   the record goes and the trigger's conversions of its arm go up;
-- and per firing either
--   "l", due, item: schedule it (delay, unless); or
--   "d", fields: a firing with one delivery due now and nothing else (no
--   limit, score or set; most firings), seven arguments fewer than "n",
--   each of which Redis must parse into a Lua string; or
--   "n", limit field or "", limit max, limit per (0: ever),
--   score points, number of trait sets, their field/value pairs, number of
--   deliveries, and per delivery when it is due (0: now) and its fields
--   as one JSON object: the field "delivery" of its actions entry, or a
--   schedule item when it is postponed (quiet hours), which moves it to
--   the actions stream when due; or
--   "m", trigger, arm ("t" treated, "h" held out), "1" when the trigger
--   has a goal, the firing's time, then a firing of the form "n": a trigger
--   with a goal or a holdout, whose firings are counted in the measures
--   hash (field TRIGGER:t or TRIGGER:h) and, with a goal, recorded in the
--   profile as "o:TRIGGER" = "MS ARM" for a later conversion. A held-out
--   firing comes with no score, set or delivery.
-- A set deletes the group's inputs that the profile script keeps (gi): it
-- may change them.
-- The firings that act now ("d", "n") are remembered as one member of the
-- dedup set per entry, its firing hash (hashid_firing: of the messageId
-- for an event, of the trigger and messageId for a waiting firing come
-- due), not one per trigger: the entry's firings are written together with its ack,
-- so they are all done or none is, and a repeat of the message fires
-- nothing, not even a trigger loaded since. An event that fires ten
-- triggers costs one ZADD and one dedup member, not ten.
-- For each entry, remembering the firing, the limit, score and set, the
-- deliveries and the ack happen together, so a crash can neither lose a
-- firing nor repeat it. The dedup set lives the window plus the profile
-- script's slack (see there). Returns per entry {fired, limited, one
-- letter per conversion: "t" or "h" converted in that arm, "-" not; then
-- one letter per firing: "1" fired, "h" fired but held out (not in
-- fired), "0" not (a repeat or limited), "s" scheduled}; or {-1, user id} when the customer was merged into that user
-- since its profile was read: nothing is written for it; or an error for
-- that entry alone.
local now, ttl = tonumber(ARGV[2]), tonumber(ARGV[5])
local dedup_score = '-' .. string.format('%d', math.floor(now / 1000))
local dedup_ttl = math.min(tonumber(ARGV[3]), ttl)
dedup_ttl = dedup_ttl + math.floor(dedup_ttl / 64)
local function nudged_convert(p, ok, tid, lo, hi)
  local f = 'o:' .. tid
  local v = ok and call('HGET', p, f)
  local at, arm = string.match(v or '', '^(%-?%d+) ([th])$')
  if not at or tonumber(at) < tonumber(lo) or tonumber(at) >= tonumber(hi) then return '-' end
  call('HDEL', p, f)
  call('HINCRBY', keys[4], tid .. ':c' .. arm, 1)
  return arm
end
local function nudged_fire(p, d, a, s, id, h, i, last)
  local to = call('GET', a)
  if to then return {-1, to} end
  local fired, limited, flags, fresh = 0, 0, {}, nil
  while i <= last do
    local op, mtid, marm, mgoal, mat = argv[i], nil, nil, nil, nil
    if op == 'm' then
      mtid, marm, mgoal, mat, op = argv[i + 1], argv[i + 2], argv[i + 3], argv[i + 4], argv[i + 5]
      i = i + 5
    end
    if op == 'l' then
      nudged_schedule(keys[3], s, argv[i + 1], argv[i + 2], ttl)
      flags[#flags + 1] = 's'
      i = i + 3
    else
      if fresh == nil then fresh = call('ZADD', d, 'NX', dedup_score, h) == 1 end
      local ok = fresh
      if op == 'c' then
        flags[#flags + 1] = nudged_convert(p, ok, argv[i + 1], argv[i + 2], argv[i + 3])
        i = i + 4
      elseif op == 'd' then
        if ok then call('XADD', keys[1], '*', 'delivery', argv[i + 1]) end
        i = i + 2
      else
        local lf, score, at = argv[i + 1], argv[i + 4], i
        local nsets = nudged_small[argv[i + 5]] or argv[i + 5] + 0
        local sets = {p}
        i = i + 6
        for _ = 1, nsets do sets[#sets + 1] = argv[i]; sets[#sets + 1] = argv[i + 1]; i = i + 2 end
        if ok and lf ~= '' then
          local max, per, min = argv[at + 2] + 0, argv[at + 3] + 0, -math.huge
          if per > 0 then min = now - per end
          local kept, v = nudged_times(call('HGET', p, lf), min, now, max)
          if #kept > max then ok = false; limited = limited + 1
          else call('HSET', p, lf, v) end
        end
        if ok and score ~= '0' then call('HINCRBY', p, 'sc', score) end
        if ok and nsets > 0 then call('HSET', unpack(sets)); call('HDEL', p, 'gi') end
        local nact = nudged_small[argv[i]] or argv[i] + 0
        i = i + 1
        for _ = 1, nact do
          if ok and argv[i] ~= '0' then nudged_schedule(keys[3], s, argv[i], argv[i + 1], ttl)
          elseif ok then call('XADD', keys[1], '*', 'delivery', argv[i + 1]) end
          i = i + 2
        end
      end
      if op == 'c' then
      elseif ok and mtid then
        call('HINCRBY', keys[4], mtid .. ':' .. marm, 1)
        if mgoal == '1' then call('HSET', p, 'o:' .. mtid, mat .. ' ' .. marm) end
        if marm == 'h' then flags[#flags + 1] = 'h' else fired = fired + 1; flags[#flags + 1] = '1' end
      else
        if ok then fired = fired + 1 end
        flags[#flags + 1] = ok and '1' or '0'
      end
    end
  end
  if fresh then call('PEXPIRE', d, dedup_ttl) end
  call('XACK', keys[2], argv[1], id)
  if argv[4] == '1' then call('XDEL', keys[2], id) end
  return {fired, limited, table.concat(flags)}
end
local out, n, i, k, nargv, pcall = {}, 0, 6, 5, #argv, pcall
while i <= nargv do
  local nf = argv[i + 2] + 0
  local ok, r = pcall(nudged_fire, keys[k], keys[k + 1], keys[k + 2], keys[k + 3], argv[i], argv[i + 1], i + 3,
                      i + 2 + nf)
  n = n + 1
  out[n] = ok and r or nudged_result(ok, r)
  i, k = i + 3 + nf, k + 4
end
return out
