-- Ranks customers among the buyers (include/tier.h), who are in the
-- buyers zsets of every shard. KEYS: the buyers zset of each shard of
-- the call (a customer's profile key -> revenue; ARGV[2] of them), then
-- the leases of the shards of the round's events. ARGV: 1 this process's
-- name (the lease holder it must be), 2 the number of buyers zsets, then
-- per customer its profile key (a member, not a key the script touches),
-- its shard's place among the zsets (0-based; -1: not in this call, on a
-- Redis Cluster, where a call keeps to one shard), for an order's
-- customer the revenue before the order ("" otherwise), for an order's
-- customer its revenue now ("" otherwise), which its shard's buyers zset
-- gets first (the same score the round's commit writes: written twice,
-- it changes nothing), so the ranks count the round's orders, and its
-- revenue when its shard is not in the call ("": not a buyer, or its
-- shard is in the call). Fenced, as a commit is. Returns {buyers, {per
-- customer: the buyers with a strictly higher revenue (-1: not a buyer),
-- the buyers with a revenue above the one before the order (the customer
-- included; -1: not asked)}, {per customer its revenue, "" when not a
-- buyer or not known here}}: sums over the call's zsets.
local out, scores, call, ns = {}, {}, redis.call, tonumber(ARGV[2])
for i = ns + 1, #KEYS do
  if call('GET', KEYS[i]) ~= ARGV[1] then
    error({err = 'NOTOWNER the lease of a shard of this batch is held by another process now: the entries are left to it'})
  end
end
for i = 3, #ARGV, 5 do
  if ARGV[i + 1] ~= '-1' and ARGV[i + 3] ~= '' then call('ZADD', KEYS[ARGV[i + 1] + 1], ARGV[i + 3], ARGV[i]) end
end
local buyers = 0
for s = 1, ns do buyers = buyers + call('ZCARD', KEYS[s]) end
local function above(score)
  local n = 0
  for s = 1, ns do n = n + call('ZCOUNT', KEYS[s], '(' .. score, '+inf') end
  return n
end
for i = 3, #ARGV, 5 do
  local s = ARGV[i + 4] ~= '' and ARGV[i + 4] or nil
  if ARGV[i + 1] ~= '-1' then s = call('ZSCORE', KEYS[ARGV[i + 1] + 1], ARGV[i]) end
  out[#out + 1] = s and above(s) or -1
  out[#out + 1] = ARGV[i + 2] ~= '' and above(ARGV[i + 2]) or -1
  scores[#scores + 1] = s or ''
end
return {buyers, out, scores}
