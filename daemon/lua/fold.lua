-- uses: locals
-- Folds the first ARGV[2] tallies of a shard's tally list
-- (include/tally.h) into the shard's counts hashes, as nudged summed
-- them, and drops them, at once. Every key is in the shard's slot.
-- KEYS: 1 the shard's lease, 2 its tally list, 3 the number of its folds
-- done, then the shard's counts hash of each trigger. ARGV: 1 this
-- process's name (the shard's lease holder it must be: only one process
-- folds a list, and only commits push, at the tail), 2 the number of
-- tallies summed, 3 the number of folds done when nudged read them (a
-- fold since, by a process that held the lease meanwhile, took them
-- already), then per hash the number of its counts and the pairs (count,
-- sum). A hash that holds another type (nothing of nudged's) would fail
-- every fold: its counts are left out, and the reply names it. Returns
-- 0, or the keys left out (space-separated).
if call('GET', keys[1]) ~= argv[1] then
  error({err = 'NOTOWNER the shard is held by another process now: it folds the shard\'s tallies'})
end
if (call('GET', keys[3]) or '0') ~= argv[3] then
  error({err = 'STALE the tallies were folded since they were read: they are read again'})
end
call('INCR', keys[3])
local lost, j = {}, 4
for k = 4, #keys do
  for _ = 1, tonumber(argv[j]) do
    local r = redis.pcall('HINCRBY', keys[k], argv[j + 1], argv[j + 2])
    if type(r) == 'table' and r.err and lost[#lost] ~= keys[k] then lost[#lost + 1] = keys[k] end
    j = j + 2
  end
  j = j + 1
end
call('LTRIM', keys[2], argv[2], -1)
if #lost > 0 then return table.concat(lost, ' ') end
return 0
