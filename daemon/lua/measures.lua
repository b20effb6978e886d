-- Reads the counts of the measured triggers (include/measure.h). KEYS:
-- per trigger its counts hash. ARGV: the triggers' ids, in the same order.
-- Returns the counts as one flat list of "ID:COUNT", value, ..., the shape
-- of an HGETALL. Read only.
local out = {}
for i = 1, #KEYS do
  local h = redis.call('HGETALL', KEYS[i])
  for j = 1, #h, 2 do
    out[#out + 1] = ARGV[i] .. ':' .. h[j]
    out[#out + 1] = h[j + 1]
  end
end
return out
