-- KEYS: profile hash, dedup zset, schedule index, merged-ids set, and
-- the schedule zset and buyers zset of the customer's shard. Erases the
-- customer (GDPR art. 17): every key, every scheduled item (waiting
-- firings, retries, postponed emails), its place among the buyers (whose
-- members are profile keys) and the links of the anonymous ids merged
-- into it (the merged-ids set holds their keys). Returns {keys deleted,
-- scheduled items removed, anonymous links removed}. The links are in
-- other shards' slots: not Redis Cluster safe.
local removed = 0
for _, m in ipairs(redis.call('SMEMBERS', KEYS[3])) do removed = removed + redis.call('ZREM', KEYS[5], m) end
local links = redis.call('SMEMBERS', KEYS[4])
for _, a in ipairs(links) do redis.call('DEL', a) end
redis.call('ZREM', KEYS[6], KEYS[1])
return {redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4]), removed, #links}
