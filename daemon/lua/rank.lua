-- Ranks customers among the buyers (include/tier.h). KEYS: the buyers
-- zset (a customer's profile key -> revenue), then the leases of the
-- shards of the round's events. ARGV: this process's name (the lease
-- holder it must be), then per customer its profile key (a member, not a
-- key the script touches), for an order's customer the revenue
-- before the order ("" otherwise), and for an order's customer its
-- revenue now ("" otherwise), which the buyers zset gets first (the same
-- score the round's commit writes: written twice, it changes nothing), so
-- the ranks count the round's orders. Fenced, as a commit is. Returns
-- {buyers, {per customer: the buyers with a strictly higher revenue (-1:
-- not a buyer), the buyers with a revenue above the one before the order
-- (the customer included; -1: not asked)}}.
local out, call = {}, redis.call
for i = 2, #KEYS do
  if call('GET', KEYS[i]) ~= ARGV[1] then
    error({err = 'NOTOWNER the lease of a shard of this batch is held by another process now: the entries are left to it'})
  end
end
for i = 2, #ARGV, 3 do
  if ARGV[i + 2] ~= '' then call('ZADD', KEYS[1], ARGV[i + 2], ARGV[i]) end
end
local buyers = call('ZCARD', KEYS[1])
for i = 2, #ARGV, 3 do
  local s = call('ZSCORE', KEYS[1], ARGV[i])
  out[#out + 1] = s and call('ZCOUNT', KEYS[1], '(' .. s, '+inf') or -1
  out[#out + 1] = ARGV[i + 1] ~= '' and call('ZCOUNT', KEYS[1], '(' .. ARGV[i + 1], '+inf') or -1
end
return {buyers, out}
