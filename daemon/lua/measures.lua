-- Reads the counts of the measured triggers (include/measure.h): their
-- hashes, and the tallies not folded into them yet (include/tally.h).
-- KEYS: per trigger its counts hash, then the tally list. ARGV: the
-- triggers' ids, in the same order. Returns one list of tallies, "ID
-- COUNT N" for each count of a hash and then the list's, which nudged
-- adds up. Read only; one script, so that a fold cannot fall between the
-- two reads.
local out = {}
for i = 1, #KEYS - 1 do
  local h = redis.call('HGETALL', KEYS[i])
  for j = 1, #h, 2 do out[#out + 1] = ARGV[i] .. ' ' .. h[j] .. ' ' .. h[j + 1] end
end
for _, t in ipairs(redis.call('LRANGE', KEYS[#KEYS], 0, -1)) do out[#out + 1] = t end
return out
