#!lua flags=allow-oom
-- Registers a process among the live ones and lists them (SPEC 8).
-- KEYS: the registry (a sorted set of process names, scored by when their
-- registration runs out, in Redis's clock, so the hosts' clocks need not
-- agree). ARGV: this process's name, the lease in ms, "1" to register or
-- "0" to leave. Drops the registrations that ran out. Returns the live
-- names (in the order of expiry: the caller orders them by name).
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], 10 * tonumber(ARGV[2]))
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return redis.call('ZRANGE', KEYS[1], 0, -1)
