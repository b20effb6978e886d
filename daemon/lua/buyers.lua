-- Keeps the buyers zset to customers that still exist: a profile that
-- expired (profile_ttl) leaves its member behind, which would count in
-- every rank. KEYS: the buyers zset. ARGV: the key prefix, how many
-- random members to look at. Removes those whose profile hash is gone;
-- returns how many. A sample each time, so the cost is fixed however many
-- buyers there are, and a dead member goes within a few passes over the
-- set's size in samples. Names profile keys from the prefix: not Redis
-- Cluster safe (like forget.lua).
local gone = 0
for _, id in ipairs(redis.call('ZRANDMEMBER', KEYS[1], ARGV[2])) do
  if redis.call('EXISTS', ARGV[1] .. '{' .. id .. '}:p') == 0 then
    gone = gone + redis.call('ZREM', KEYS[1], id)
  end
end
return gone
