-- uses: locals schedule
-- Commits what one round of a batch changed in its customers' profiles,
-- as nudged worked it out in memory (customer_apply, include/pcache.h):
-- plumbing only, every rule of the profile is nudged's C. KEYS: 1 the
-- schedule, 2 the buyers zset, then the leases of the shards of the
-- round's events (ARGV[2] of them), then per customer its profile hash,
-- dedup set and schedule index. ARGV: 1 this process's name (the lease
-- holder it must be), 2 the number of leases, 3 profile ttl, 4 dedup ttl,
-- 5 the score of a new dedup member (profile_add_dedup_score), 6 the
-- trim (dedup members scored above it have left the window), then per
-- customer: the version it was built on ("0": no hash), the number of
-- field/value pairs to set, its code, then the pairs, the fields to
-- delete, the message hashes, with flag 8 its regroup item's due time and
-- member, with flag 4 its buyers score and id. The code packs what would be
-- four arguments (each argument costs Redis a Lua string): the number of
-- hashes (at most a batch, 10,000) + 2^16 x the number of fields to
-- delete (nudged's C never deletes one today) + 2^32 x the flags (1: set
-- the keys' time to live again, 2: trim the dedup set, 4: a buyers score,
-- 8: a regroup item).
-- Fenced: a process that lost a lease writes nothing. Checked: every
-- profile must still be at the version the commit was built on (every
-- writer of a profile hash adds one to its field v), else nothing is
-- written and the reply is the (1-based) positions of the customers whose
-- profile moved on: the caller reads them again. Returns 0 when written.
local owner, nleases = argv[1], tonumber(argv[2])
for i = 3, 2 + nleases do
  if call('GET', keys[i]) ~= owner then
    error({err = 'NOTOWNER the lease of a shard of this batch is held by another process now: the entries are left to it'})
  end
end
local B = 65536
-- Each customer's code read into its counts and flags, once.
local at, stale, n, i, k, nargv = {}, {}, 0, 7, 3 + nleases, #argv
while i <= nargv do
  local nset, code = tonumber(argv[i + 1]), tonumber(argv[i + 2])
  local nseen = code % B
  code = (code - nseen) / B
  local ndel = code % B
  local flags = (code - ndel) / B
  if (call('HGET', keys[k], 'v') or '0') ~= argv[i] then stale[#stale + 1] = n + 1 end
  n = n + 1
  at[n] = {i, k, nset, nseen, ndel, flags}
  i = i + 3 + 2 * nset + ndel + nseen + (flags % 16 >= 8 and 2 or 0) + (flags % 8 >= 4 and 2 or 0)
  k = k + 3
end
if #stale > 0 then return stale end
local ttl, dedup_ttl, score, trim = argv[3], argv[4], argv[5], argv[6]
for c = 1, n do
  local i, k, nset, nseen, ndel, flags = unpack(at[c])
  local p, d = keys[k], keys[k + 1]
  local set, j = {p, 'v', argv[i] + 1}, i + 3
  for _ = 1, nset do set[#set + 1] = argv[j]; set[#set + 1] = argv[j + 1]; j = j + 2 end
  call('HSET', unpack(set))
  if ndel > 0 then call('HDEL', p, unpack(argv, j, j + ndel - 1)); j = j + ndel end
  if nseen > 0 then
    local add = {d, 'NX'}
    for _ = 1, nseen do add[#add + 1] = score; add[#add + 1] = argv[j]; j = j + 1 end
    call('ZADD', unpack(add))
  end
  if flags % 4 >= 2 then call('ZREMRANGEBYSCORE', d, trim, '+inf') end
  if flags % 2 == 1 then
    call('PEXPIRE', p, ttl)
    call('PEXPIRE', d, dedup_ttl)
  end
  if flags % 16 >= 8 then nudged_schedule(keys[1], keys[k + 2], argv[j], argv[j + 1], ttl); j = j + 2 end
  if flags % 8 >= 4 then call('ZADD', keys[2], argv[j], argv[j + 1]) end
end
return 0
