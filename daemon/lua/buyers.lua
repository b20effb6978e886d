-- Keeps shards' buyers zsets to customers that still exist: a profile
-- that expired (profile_ttl) leaves its member behind, which would count
-- in every rank. KEYS: the buyers zsets of shards (on a Redis Cluster,
-- one a call), whose members are the profile keys of the shard's buyers
-- (in the same slot). ARGV: how many random members of each to look at.
-- Removes those whose profile hash is gone; returns how many. A sample
-- each time, so the cost is fixed however many buyers there are, and a
-- dead member goes within a few passes over the set's size in samples.
local gone = 0
for _, key in ipairs(KEYS) do
  for _, p in ipairs(redis.call('ZRANDMEMBER', key, ARGV[1])) do
    if redis.call('EXISTS', p) == 0 then
      gone = gone + redis.call('ZREM', key, p)
    end
  end
end
return gone
