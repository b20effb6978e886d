-- uses: locals tally
-- Reads the counts of the measured triggers (include/measure.h): their
-- hashes plus the tallies not yet folded into them. KEYS: per trigger its
-- counts hash, then the tally list. ARGV: the triggers' ids, in the same
-- order. Returns the counts as one flat list of "ID:COUNT", value, ...,
-- the shape of an HGETALL. Read only.
local pending = nudged_tallies(keys[#keys], {})
local out = {}
for i = 1, #keys - 1 do
  local h = call('HGETALL', keys[i])
  local seen = {}
  for j = 1, #h, 2 do
    local k = argv[i] .. ' ' .. h[j]
    seen[h[j]] = true
    out[#out + 1] = argv[i] .. ':' .. h[j]
    out[#out + 1] = string.format('%.0f', tonumber(h[j + 1]) + (pending[k] or 0))
  end
  for k, n in pairs(pending) do
    local id, count = string.match(k, '(%S+) (%S+)')
    if id == argv[i] and not seen[count] then
      out[#out + 1] = id .. ':' .. count
      out[#out + 1] = string.format('%.0f', n)
    end
  end
end
return out
