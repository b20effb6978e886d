-- KEYS: profile hash, dedup zset, schedule index, merged-ids set, schedule
-- zset, buyers zset. ARGV: key prefix, the customer id (left out of the
-- buyers' ranking). Erases the customer (GDPR art. 17): every key,
-- every scheduled item (waiting firings, retries, postponed emails) and
-- the links of anonymous ids merged into it. Returns {keys deleted,
-- scheduled items removed, anonymous links removed}. The links are named
-- from the merged-ids set, so this script is not Redis Cluster safe.
local removed = 0
for _, m in ipairs(redis.call('SMEMBERS', KEYS[3])) do removed = removed + redis.call('ZREM', KEYS[5], m) end
local anons = redis.call('SMEMBERS', KEYS[4])
for _, a in ipairs(anons) do redis.call('DEL', ARGV[1] .. '{' .. a .. '}:a') end
redis.call('ZREM', KEYS[6], ARGV[2])
return {redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4]), removed, #anons}
