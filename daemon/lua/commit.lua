-- uses: locals schedule
-- Commits one round of a batch as nudged worked it out in memory: the
-- anonymous ids it merged into users, what its events and firings changed
-- in their customers' profiles (customer.h, decision.h), their
-- deliveries, schedule items and counts, and the acks of its entries, all
-- or nothing. Plumbing only: every rule is nudged's C.
-- KEYS: 1 the tally list of the round's shard (include/tally.h), then
-- the leases of the shards of the round's events (ARGV[2] of them), the
-- streams its entries came from (ARGV[8]), per merge the anonymous id's
-- profile hash, dedup set, schedule index and link, the user's schedule
-- index and merged-ids set, the schedules of the anonymous id's shard and
-- of the user's, and the buyers zset of the anonymous id's shard
-- (ARGV[12]), then per customer its profile hash, dedup set and schedule
-- index, its shard's schedule when it schedules an item and its shard's
-- buyers zset when it has a buyers score, then per delivery (ARGV[10])
-- the outbox (actions stream) of its customer's shard.
-- ARGV: 1 this process's name (the lease holder it must be), 2 the number
-- of leases, 3 profile ttl, 4 dedup ttl, 5 the score of a new dedup
-- member, 6 the trim (dedup members scored above it have left the
-- window), 7 the consumer group, 8 the number of streams, 9 "1" to delete
-- the acked entries (nudged's own timers stream), 10 the number of
-- deliveries, 11 the round's tally of counts ("": none), 12 the number of
-- merges; then per merge the user id and the version the anonymous
-- profile was read at (the anonymous id is in its keys) ("0": no hash); then the deliveries
-- (each the field "delivery" of an actions entry), per stream the number
-- of its entries and their ids; then per customer: the version it was built on ("0": no hash), the number of
-- field/value pairs to set, its code, then the pairs, the fields to
-- delete, the message and firing hashes, its schedule items (due time,
-- member), with flag 4 its buyers score (the member is its profile
-- hash's key). The code packs what would
-- be four arguments (each argument costs Redis a Lua string): the number
-- of hashes (below 2^16) + 2^16 x the number of fields to delete + 2^32 x
-- (the flags + 16 x the number of schedule items); flags 1: set the keys'
-- time to live again, 2: trim the dedup set, 4: a buyers score, 8: set
-- the dedup set's time to live again alone (a waiting firing's hash: the
-- set may have expired since the customer's last event).
-- A merge's user is one of the customers: its profile gets the folded
-- fields there. The merge moves the anonymous id's scheduled items to the
-- user (their "customer" rewritten), deletes its keys and sets its link.
-- Fenced: a process that lost a lease writes nothing. Checked: every
-- profile must still be at the version the commit was built on (every
-- writer of a profile hash adds one to its field v), and a customer with
-- no hash yet must not have been merged into a user since it was read
-- (its link, the key of its profile's slot ending in "a"), nor a merge's
-- anonymous id; else nothing is written and the reply is the (1-based)
-- positions of the customers whose profile moved on (minus the position
-- of a merge): the caller reads them again. Returns 0 when written, or
-- the tally list's key when it holds another type (nothing of nudged's):
-- the round's counts are left out, and the rest is written, so that such
-- a key cannot stall every round.
local owner, nleases, nstreams = argv[1], tonumber(argv[2]), tonumber(argv[8])
for i = 2, 1 + nleases do
  if call('GET', keys[i]) ~= owner then
    error({err = 'NOTOWNER the lease of a shard of this batch is held by another process now: the entries are left to it'})
  end
end
local B = 65536
local ndeliveries, nmerges = tonumber(argv[10]), tonumber(argv[12])
local mk, stale = 2 + nleases + nstreams, {}
for m = 1, nmerges do
  local a, k = 11 + 2 * m, mk + 9 * (m - 1)
  if (call('HGET', keys[k], 'v') or '0') ~= argv[a + 1] or call('EXISTS', keys[k + 3]) == 1 then
    stale[#stale + 1] = -m
  end
end
local d0 = 13 + 2 * nmerges
local i = d0 + ndeliveries
-- Flat arrays, not a table an entry: each table is an allocation, and
-- the commit runs for every round.
local acks = {}
for s = 1, nstreams do
  acks[2 * s - 1], acks[2 * s] = i + 1, tonumber(argv[i])
  i = i + 1 + acks[2 * s]
end
-- Each customer's code read into its counts and flags, once: seven
-- numbers a customer in AT.
local at, n, k, nargv = {}, 0, mk + 9 * nmerges, #argv
while i <= nargv do
  local nset, code = tonumber(argv[i + 1]), tonumber(argv[i + 2])
  local nseen = code % B
  code = (code - nseen) / B
  local ndel = code % B
  local flags = (code - ndel) / B
  local nitems = (flags - flags % 16) / 16
  local v = call('HGET', keys[k], 'v')
  if (v or '0') ~= argv[i] or (not v and call('EXISTS', string.sub(keys[k], 1, -2) .. 'a') == 1) then
    stale[#stale + 1] = n + 1
  end
  local o = 7 * n
  at[o + 1], at[o + 2], at[o + 3], at[o + 4], at[o + 5], at[o + 6], at[o + 7] = i, k, nset, nseen, ndel, flags, nitems
  n = n + 1
  local buyer = flags % 8 >= 4 and 1 or 0
  i = i + 3 + 2 * nset + ndel + nseen + 2 * nitems + buyer
  k = k + 3 + (nitems > 0 and 1 or 0) + buyer
end
local kd = k -- the deliveries' outboxes
if #stale > 0 then return stale end
local ttl, dedup_ttl, score, trim = argv[3], argv[4], argv[5], argv[6]
for m = 1, nmerges do
  local a, k = 11 + 2 * m, mk + 9 * (m - 1)
  local into = argv[a]
  for _, item in ipairs(call('SMEMBERS', keys[k + 2])) do
    local due = call('ZSCORE', keys[k + 6], item)
    local ok, f = pcall(cjson.decode, item)
    if due and ok and type(f) == 'table' then
      f.customer = into
      call('ZREM', keys[k + 6], item)
      nudged_schedule(keys[k + 7], keys[k + 4], due, cjson.encode(f), ttl)
    end
  end
  call('DEL', keys[k], keys[k + 1], keys[k + 2])
  call('ZREM', keys[k + 8], keys[k]) -- the buyer is the user now, with the revenue summed
  call('SET', keys[k + 3], into, 'PX', ttl)
  call('SADD', keys[k + 5], keys[k + 3]) -- the link's key, which an erasure deletes
  call('PEXPIRE', keys[k + 5], ttl)
end
for c = 0, n - 1 do
  local o = 7 * c
  local i, k, nset, nseen, ndel, flags, nitems = at[o + 1], at[o + 2], at[o + 3], at[o + 4], at[o + 5], at[o + 6], at[o + 7]
  local p, d = keys[k], keys[k + 1]
  local j = i + 3
  if nset + ndel + nseen > 0 then
    if nset > 0 then
      call('HSET', p, 'v', argv[i] + 1, unpack(argv, j, j + 2 * nset - 1))
    else
      call('HSET', p, 'v', argv[i] + 1)
    end
    j = j + 2 * nset
  end
  if ndel > 0 then call('HDEL', p, unpack(argv, j, j + ndel - 1)); j = j + ndel end
  if nseen == 1 then
    call('ZADD', d, 'NX', score, argv[j])
    j = j + 1
  elseif nseen > 1 then
    local add = {d, 'NX'}
    for _ = 1, nseen do add[#add + 1] = score; add[#add + 1] = argv[j]; j = j + 1 end
    call('ZADD', unpack(add))
  end
  if flags % 4 >= 2 then call('ZREMRANGEBYSCORE', d, trim, '+inf') end
  if flags % 2 == 1 then
    call('PEXPIRE', p, ttl)
    call('PEXPIRE', d, dedup_ttl)
  elseif flags % 16 >= 8 then
    call('PEXPIRE', d, dedup_ttl)
  end
  for _ = 1, nitems do nudged_schedule(keys[k + 3], keys[k + 2], argv[j], argv[j + 1], ttl); j = j + 2 end
  if flags % 8 >= 4 then call('ZADD', keys[k + 3 + (nitems > 0 and 1 or 0)], argv[j], p) end
end
for j = 0, ndeliveries - 1 do call('XADD', keys[kd + j], '*', 'delivery', argv[d0 + j]) end
local lost = argv[11] ~= '' and redis.pcall('RPUSH', keys[1], argv[11])
-- In pieces: Lua unpacks at most a few thousand values at a time.
for s = 1, nstreams do
  local from, last, src = acks[2 * s - 1], acks[2 * s - 1] + acks[2 * s] - 1, keys[1 + nleases + s]
  for a = from, last, 1000 do
    local z = math.min(a + 999, last)
    call('XACK', src, argv[7], unpack(argv, a, z))
    if argv[9] == '1' then call('XDEL', src, unpack(argv, a, z)) end
  end
end
if type(lost) == 'table' and lost.err then return keys[1] end
return 0
