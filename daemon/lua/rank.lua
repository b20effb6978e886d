-- Ranks customers among the buyers (include/tier.h), who are in the
-- buyers zsets of every shard. KEYS: the buyers zset of each shard (a
-- customer's profile key -> revenue; ARGV[2] of them), then the leases
-- of the shards of the round's events. ARGV: 1 this process's name (the
-- lease holder it must be), 2 the number of shards, then per customer its
-- profile key (a member, not a key the script touches), its shard
-- (0-based), for an order's customer the revenue before the order (""
-- otherwise), and for an order's customer its revenue now ("" otherwise),
-- which its shard's buyers zset gets first (the same score the round's
-- commit writes: written twice, it changes nothing), so the ranks count
-- the round's orders. Fenced, as a commit is. Returns {buyers, {per
-- customer: the buyers with a strictly higher revenue (-1: not a buyer),
-- the buyers with a revenue above the one before the order (the customer
-- included; -1: not asked)}}: sums over the shards.
local out, call, ns = {}, redis.call, tonumber(ARGV[2])
for i = ns + 1, #KEYS do
  if call('GET', KEYS[i]) ~= ARGV[1] then
    error({err = 'NOTOWNER the lease of a shard of this batch is held by another process now: the entries are left to it'})
  end
end
for i = 3, #ARGV, 4 do
  if ARGV[i + 3] ~= '' then call('ZADD', KEYS[ARGV[i + 1] + 1], ARGV[i + 3], ARGV[i]) end
end
local buyers = 0
for s = 1, ns do buyers = buyers + call('ZCARD', KEYS[s]) end
local function above(score)
  local n = 0
  for s = 1, ns do n = n + call('ZCOUNT', KEYS[s], '(' .. score, '+inf') end
  return n
end
for i = 3, #ARGV, 4 do
  local s = call('ZSCORE', KEYS[ARGV[i + 1] + 1], ARGV[i])
  out[#out + 1] = s and above(s) or -1
  out[#out + 1] = ARGV[i + 2] ~= '' and above(ARGV[i + 2]) or -1
end
return {buyers, out}
