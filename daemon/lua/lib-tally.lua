-- The counts of the measured triggers (include/measure.h) not yet folded
-- into their hashes: each commit that counts something pushes one tally,
-- "ID COUNT N ID COUNT N ...", to the list <prefix>tally, so a round's
-- counts cost Redis one RPUSH however many triggers it counted. Adds the
-- tallies of LIST to SUMS ("ID COUNT" -> N).
local function nudged_tallies(list, sums)
  for _, t in ipairs(call('LRANGE', list, 0, -1)) do
    for id, count, n in string.gmatch(t, '(%S+) (%S+) (%d+)') do
      local k = id .. ' ' .. count
      sums[k] = (sums[k] or 0) + tonumber(n)
    end
  end
  return sums
end

-- Folds the tallies of LIST into the hashes PREFIX .. ID and empties it,
-- in the caller's atomic script. A hash that holds another type (nothing
-- of nudged's) would fail every fold: its counts are left out, and its
-- key is returned in LOST for the log.
local function nudged_fold(list, prefix, lost)
  for k, n in pairs(nudged_tallies(list, {})) do
    local id, count = string.match(k, '(%S+) (%S+)')
    local r = redis.pcall('HINCRBY', prefix .. id, count, n)
    if type(r) == 'table' and r.err then lost[#lost + 1] = prefix .. id end
  end
  call('DEL', list)
end
