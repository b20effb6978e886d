-- Reads the counts of the measured triggers (include/measure.h): their
-- hashes in every shard, and the tallies not folded into them yet
-- (include/tally.h). KEYS: per shard, per trigger its counts hash in the
-- shard, then the shard's tally list. ARGV: the triggers' ids, in the
-- same order. Returns one list of tallies, "ID COUNT N" for each count of
-- a hash and then the lists', which nudged adds up. Read only; one
-- script, so that a fold cannot fall between the reads of a shard's
-- hashes and list.
local out, n = {}, #ARGV
for s = 0, #KEYS / (n + 1) - 1 do
  local base = s * (n + 1)
  for i = 1, n do
    local h = redis.call('HGETALL', KEYS[base + i])
    for j = 1, #h, 2 do out[#out + 1] = ARGV[i] .. ' ' .. h[j] .. ' ' .. h[j + 1] end
  end
  for _, t in ipairs(redis.call('LRANGE', KEYS[base + n + 1], 0, -1)) do out[#out + 1] = t end
end
return out
