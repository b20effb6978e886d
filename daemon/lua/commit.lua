-- uses: locals schedule
-- Commits what one round of a batch changed in its customers' profiles,
-- as nudged worked it out in memory (customer_apply, include/pcache.h):
-- plumbing only, every rule of the profile is nudged's C. KEYS: 1 the
-- schedule, 2 the buyers zset, then the leases of the shards of the
-- round's events (ARGV[2] of them), then per customer its profile hash,
-- dedup set and schedule index. ARGV: 1 this process's name (the lease
-- holder it must be), 2 the number of leases, 3 profile ttl, 4 dedup ttl,
-- 5 the score of a new dedup member (minus the second: see below), 6 the
-- trim (dedup members scored above it have left the window), then per
-- customer: the version it was built on ("0": no hash), flags ("r": set
-- the keys' time to live again, "t": trim the dedup set, "b": the
-- customer's buyers score, "-": none), the numbers of fields to set, of
-- fields to delete and of message hashes, the due time of its regroup
-- item ("0": none), then the field/value pairs, the fields to delete, the
-- hashes, the regroup item (when due), and with "b" the score and the
-- customer id.
-- Fenced: a process that lost a lease writes nothing. Checked: every
-- profile must still be at the version the commit was built on (every
-- writer of a profile hash adds one to its field v), else nothing is
-- written and the reply is the (1-based) positions of the customers whose
-- profile moved on: the caller reads them again. Returns 0 when written.
-- A dedup member is scored by minus the second it was applied in: the
-- newest is the lowest, so ZADD puts it at the head of the listpack
-- instead of scanning the scores to the end.
local owner, nleases = argv[1], tonumber(argv[2])
for i = 3, 2 + nleases do
  if call('GET', keys[i]) ~= owner then
    error({err = 'NOTOWNER the lease of a shard of this batch is held by another process now: the entries are left to it'})
  end
end
local at, stale, i, k, nargv = {}, {}, 7, 3 + nleases, #argv
while i <= nargv do
  local nset, ndel, nseen, flags = tonumber(argv[i + 2]), tonumber(argv[i + 3]), tonumber(argv[i + 4]), argv[i + 1]
  if (call('HGET', keys[k], 'v') or '0') ~= argv[i] then stale[#stale + 1] = #at + 1 end
  at[#at + 1] = {i, k}
  i = i + 6 + 2 * nset + ndel + nseen + (argv[i + 5] ~= '0' and 1 or 0) + (string.find(flags, 'b', 1, true) and 2 or 0)
  k = k + 3
end
if #stale > 0 then return stale end
local ttl, dedup_ttl, score, trim = argv[3], argv[4], argv[5], argv[6]
for _, ik in ipairs(at) do
  local i, k = ik[1], ik[2]
  local p, d, s = keys[k], keys[k + 1], keys[k + 2]
  local flags, nset, ndel, nseen, due = argv[i + 1], tonumber(argv[i + 2]), tonumber(argv[i + 3]),
    tonumber(argv[i + 4]), argv[i + 5]
  local set, j = {p, 'v', tonumber(argv[i]) + 1}, i + 6
  for _ = 1, nset do set[#set + 1] = argv[j]; set[#set + 1] = argv[j + 1]; j = j + 2 end
  call('HSET', unpack(set))
  if ndel > 0 then call('HDEL', p, unpack(argv, j, j + ndel - 1)); j = j + ndel end
  if nseen > 0 then
    local add = {d, 'NX'}
    for _ = 1, nseen do add[#add + 1] = score; add[#add + 1] = argv[j]; j = j + 1 end
    call('ZADD', unpack(add))
  end
  if string.find(flags, 't', 1, true) then call('ZREMRANGEBYSCORE', d, trim, '+inf') end
  if string.find(flags, 'r', 1, true) then
    call('PEXPIRE', p, ttl)
    call('PEXPIRE', d, dedup_ttl)
  end
  if due ~= '0' then nudged_schedule(keys[1], s, due, argv[j], ttl); j = j + 1 end
  if string.find(flags, 'b', 1, true) then call('ZADD', keys[2], argv[j], argv[j + 1]) end
end
return 0
