-- uses: locals schedule
-- KEYS: a shard's actions stream (outbox) and its schedule zset, the
-- customer's schedule index.
-- ARGV: group, entry id, due, item, profile ttl.
nudged_schedule(KEYS[2], KEYS[3], ARGV[3], ARGV[4], ARGV[5])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return redis.call('XDEL', KEYS[1], ARGV[2])
