-- KEYS: a stream. ARGV: its group, and optionally the oldest id to keep
-- by age. Trims the entries the group has read (below its
-- last-delivered-id) and acked (below its oldest pending entry), and older
-- than ARGV[2] when given: what XDEL of each would do, at the cost of
-- removing whole stream nodes (~), so up to a node's worth of entries stay.
-- A pending entry is never removed: a process that crashed while sending
-- it leaves it for another to claim. Returns the number removed.
local last
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local f = {}
  for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
  if f['name'] == ARGV[1] then last = f['last-delivered-id'] end
end
if not last then return 0 end
local pending = redis.call('XPENDING', KEYS[1], ARGV[1])
local floor = pending[1] > 0 and pending[2] or last
if ARGV[2] then
  local fm, fs = string.match(floor, '(%d+)-(%d+)')
  local am = tonumber(string.match(ARGV[2], '(%d+)-'))
  if am < tonumber(fm) or (am == tonumber(fm) and tonumber(fs) > 0) then floor = ARGV[2] end
end
return redis.call('XTRIM', KEYS[1], 'MINID', '~', floor)
