-- Keeps the buyers zset to customers that still exist: a profile that
-- expired (profile_ttl) leaves its member behind, which would count in
-- every rank. KEYS: the buyers zset, whose members are the buyers'
-- profile keys. ARGV: how many random members to look at. Removes those
-- whose profile hash is gone; returns how many. A sample each time, so
-- the cost is fixed however many buyers there are, and a dead member goes
-- within a few passes over the set's size in samples. The members name
-- keys of other slots: not Redis Cluster safe.
local gone = 0
for _, p in ipairs(redis.call('ZRANDMEMBER', KEYS[1], ARGV[1])) do
  if redis.call('EXISTS', p) == 0 then
    gone = gone + redis.call('ZREM', KEYS[1], p)
  end
end
return gone
