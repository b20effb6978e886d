-- uses: locals times schedule result small
-- Writes the firings of a run of entries in one call. KEYS: the actions
-- stream, the schedule, the measures hash, then per entry its customer's
-- profile hash, dedup set, link and schedule index, the entry's source stream (a shard's events stream, or the
-- timers stream) and its shard's lease ("" for a timer: not fenced). ARGV: 1 group, 2 now, 3 the dedup set's time to live (profile_dedup_ttl), 4 "1" to delete each entry
-- from the source (nudged's own timers stream), 5 profile ttl, 6 and 7 the
-- frequency cap (emails, window ms; 0: none), 8 this process's name (the
-- lease holder it must be), 9 the score of a new dedup member
-- (profile_add_dedup_score), then per
-- entry: its source entry id, its firing hash, the number of arguments of
-- its firings, and per firing either
--   "c", time, goals: the entry's event (at that time) is the goal of the
--   goal ids in goals (" ID ID "): the customer's records of firings
--   that may convert (profile field "o", include/measure.h) whose goal is
--   one of them and whose window holds the time convert (counted in the
--   measures hash as TRIGGER:ct or TRIGGER:ch, and removed); records whose
--   window has ended go too. At most one, before the firings;
--   "l", due, item: schedule it (delay, unless); or
--   "d", fields: a firing with one delivery due now and nothing else (no
--   limit, score or set; most firings), seven arguments fewer than "n",
--   each of which Redis must parse into a Lua string; or
--   "n", limit field or "", limit max, limit per (0: ever),
--   score points, number of trait sets, their field/value pairs, number of
--   deliveries, and per delivery when it is due (0: now; "e" first: an
--   email under the frequency cap, not sent when the customer had as many
--   emails as the cap in its window, else counted in the profile field
--   "ce", the send times, as customer_cap_take does) and its fields
--   as one JSON object: the field "delivery" of its actions entry, or a
--   schedule item when it is postponed (quiet hours), which moves it to
--   the actions stream when due; or
--   "m", trigger, arm ("t" treated, "h" held out), record, then a firing
--   of the form "d" or "n": a trigger with a goal or a holdout, whose
--   firings are counted in the measures hash (field TRIGGER:t or
--   TRIGGER:h) and, with a goal, whose record (";TRIGGER ARM AT DEADLINE
--   GOAL", else "") replaces its older one in the customer's records. A
--   held-out firing comes as "n" with no score, set or delivery.
-- A score or a set adds one to the profile's version (its field v): they
-- change what nudged keeps of the profile in memory (include/pcache.h),
-- which then reads it again. Limits, the cap's times and the goal records
-- do not: nudged's C never writes those fields, so a commit cannot
-- overwrite them.
-- The firings that act now ("d", "n") are remembered as one member of the
-- dedup set per entry, its firing hash (hashid_firing: of the messageId
-- for an event, of the trigger and messageId for a waiting firing come
-- due), not one per trigger: the entry's firings are written together with its ack,
-- so they are all done or none is, and a repeat of the message fires
-- nothing, not even a trigger loaded since. An event that fires ten
-- triggers costs one ZADD and one dedup member, not ten.
-- For each entry, remembering the firing, the limit, score and set, the
-- deliveries and the ack happen together, so a crash can neither lose a
-- firing nor repeat it. The dedup set lives the window plus the commit's
-- slack (profile_ttl_period). Returns per entry {fired, limited, one
-- letter per firing: "1" fired, "h" fired but held out (not in fired),
-- "0" not (a repeat or limited), "s" scheduled, "c" the conversions, "x"
-- fired with an email capped; the conversions, "TRIGGER ARM" joined by
-- ","; the number of emails capped; 1 when a score or set changed the
-- profile, else 0}; or {-1, user id} when the customer was merged into that user
-- since its profile was read: nothing is written for it; or an error for
-- that entry alone.
local now, ttl = tonumber(ARGV[2]), tonumber(ARGV[5])
local cap_max, cap_min = tonumber(ARGV[6]), now - tonumber(ARGV[7])
local dedup_ttl, dedup_score = ARGV[3], ARGV[9]
-- The measures hash's increments: an entry's own (entry) join the call's
-- (counts) when it is done, and are written once at the end: an entry
-- that fails part way counts nothing.
local counts, entry = {}, {}
local function nudged_count(field) entry[field] = (entry[field] or 0) + 1 end
-- The records OPEN after an event at TS that is the goal of HITS (measure_convert
-- in triggers/measure.c does the same for replay): converted ones are
-- counted, appended to CONV and dropped, ended ones dropped.
local function nudged_convert(open, ts, hits, conv)
  local kept = {}
  for rec, tid, arm, at, dl, g in string.gmatch(open, '(;([^ ;]+) ([th]) (%-?%d+) (%-?%d+) (%x+))') do
    if tonumber(dl) >= ts then
      if tonumber(at) < ts and string.find(hits, ' ' .. g .. ' ', 1, true) then
        nudged_count(tid .. ':c' .. arm)
        conv[#conv + 1] = tid .. ' ' .. arm
      else kept[#kept + 1] = rec end
    end
  end
  return table.concat(kept)
end
-- The records OPEN with REC in place of TID's older one and, once they
-- pass 1,024 bytes, without those ended before its moment (measure_put,
-- MEASURE_PRUNE_LEN).
local function nudged_put(open, tid, rec)
  local s = string.find(open, ';' .. tid .. ' ', 1, true)
  if s then
    local e = string.find(open, ';', s + 1, true)
    open = string.sub(open, 1, s - 1) .. (e and string.sub(open, e) or '')
  end
  if #open > 1024 then
    local at, kept = tonumber(string.match(rec, ' [th] (%-?%d+) ')), {}
    for r, dl in string.gmatch(open, '(;[^ ;]+ [th] %-?%d+ (%-?%d+) %x+)') do
      if tonumber(dl) >= at then kept[#kept + 1] = r end
    end
    open = table.concat(kept)
  end
  return open .. rec
end
local function nudged_fire(p, d, a, s, src, lease, id, h, i, last)
  -- Fenced: a process that lost its shard's lease (paused past it) writes
  -- nothing; the entry stays pending for the owner, which takes it over.
  if lease ~= '' and call('GET', lease) ~= argv[8] then
    error({err = 'NOTOWNER the lease of this entry\'s shard is held by another process now: the entry is left to it'})
  end
  local to = call('GET', a)
  if to then return {-1, to} end
  local fired, limited, flags, fresh, open, orig, conv, capped, was, changed = 0, 0, {}, nil, nil, nil, {}, 0, 0, 0
  entry = {}
  while i <= last do
    local op, mtid, marm, mrec = argv[i], nil, nil, nil
    if op == 'm' then
      mtid, marm, mrec, op = argv[i + 1], argv[i + 2], argv[i + 3], argv[i + 4]
      i = i + 4
    end
    if op == 'l' then
      nudged_schedule(keys[2], s, argv[i + 1], argv[i + 2], ttl)
      flags[#flags + 1] = 's'
      i = i + 3
    else
      if fresh == nil and op ~= 'c' then fresh = call('ZADD', d, 'NX', dedup_score, h) == 1 end
      local ok = fresh
      was = capped
      if op == 'c' then -- no dedup member: a record converts once, so a repeat converts nothing
        if not open then orig = call('HGET', p, 'o') or ''; open = orig end
        open = nudged_convert(open, tonumber(argv[i + 1]), argv[i + 2], conv)
        flags[#flags + 1] = 'c'
        i = i + 3
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
        if ok and score ~= '0' then call('HINCRBY', p, 'sc', score); changed = 1 end
        if ok and nsets > 0 then call('HSET', unpack(sets)); changed = 1 end
        local nact = nudged_small[argv[i]] or argv[i] + 0
        i = i + 1
        for _ = 1, nact do
          local due = ok and argv[i]
          if due and string.byte(due) == 101 then -- "e": under the frequency cap
            due = string.sub(due, 2)
            local kept, v = nudged_times(call('HGET', p, 'ce'), cap_min, now, cap_max)
            if #kept > cap_max then capped, due = capped + 1, nil else call('HSET', p, 'ce', v) end
          end
          if due and due ~= '0' then nudged_schedule(keys[2], s, due, argv[i + 1], ttl)
          elseif due then call('XADD', keys[1], '*', 'delivery', argv[i + 1]) end
          i = i + 2
        end
      end
      if op == 'c' then
      elseif ok and mtid then
        nudged_count(mtid .. ':' .. marm)
        if mrec ~= '' then
          if not open then orig = call('HGET', p, 'o') or ''; open = orig end
          open = nudged_put(open, mtid, mrec)
        end
        if marm == 'h' then flags[#flags + 1] = 'h' else fired = fired + 1; flags[#flags + 1] = capped > was and 'x' or '1' end
      else
        if ok then fired = fired + 1 end
        flags[#flags + 1] = ok and (capped > was and 'x' or '1') or '0'
      end
    end
  end
  if open ~= orig then
    if open == '' then call('HDEL', p, 'o') else call('HSET', p, 'o', open) end
  end
  if changed == 1 then call('HINCRBY', p, 'v', 1) end
  if fresh then call('PEXPIRE', d, dedup_ttl) end
  call('XACK', src, argv[1], id)
  if argv[4] == '1' then call('XDEL', src, id) end
  for f, c in pairs(entry) do counts[f] = (counts[f] or 0) + c end
  return {fired, limited, table.concat(flags), table.concat(conv, ','), capped, changed}
end
local out, n, i, k, nargv, pcall = {}, 0, 10, 4, #argv, pcall
while i <= nargv do
  local nf = argv[i + 2] + 0
  local ok, r = pcall(nudged_fire, keys[k], keys[k + 1], keys[k + 2], keys[k + 3], keys[k + 4], keys[k + 5], argv[i],
                      argv[i + 1], i + 3, i + 2 + nf)
  n = n + 1
  out[n] = ok and r or nudged_result(ok, r)
  i, k = i + 3 + nf, k + 6
end
for f, c in pairs(counts) do call('HINCRBY', keys[3], f, c) end
return out
