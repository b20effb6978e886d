-- Ranks customers among the buyers (include/tier.h). KEYS: the buyers
-- zset (customer id -> revenue). ARGV: per customer its id and, for an
-- order's customer, the revenue before the order ("" otherwise). Returns
-- {buyers, {per customer: the buyers with a strictly higher revenue (-1:
-- not a buyer), the buyers with a revenue above the one before the order
-- (the customer included; -1: not asked)}}. Read only.
local buyers, out, call = redis.call('ZCARD', KEYS[1]), {}, redis.call
for i = 1, #ARGV, 2 do
  local s = call('ZSCORE', KEYS[1], ARGV[i])
  out[#out + 1] = s and call('ZCOUNT', KEYS[1], '(' .. s, '+inf') or -1
  out[#out + 1] = ARGV[i + 1] ~= '' and call('ZCOUNT', KEYS[1], '(' .. ARGV[i + 1], '+inf') or -1
end
return {buyers, out}
