-- uses: locals group
-- KEYS: profile hash. ARGV: now, active_period. Computes the group again
-- with only time passing (an active customer's period ran out); a move
-- adds one to the profile's version (v, include/pcache.h). Returns
-- {group moved into or false, the profile or false}.
if redis.call('EXISTS', KEYS[1]) == 0 then return {false, false} end
local g = nudged_group(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
if g == redis.call('HGET', KEYS[1], 'g') then return {false, false} end
redis.call('HSET', KEYS[1], 'g', g)
redis.call('HINCRBY', KEYS[1], 'v', 1)
return {g, redis.call('HGETALL', KEYS[1])}
