-- KEYS: rejected stream, events stream. ARGV: group, entry id, message, error.
redis.call('XADD', KEYS[1], 'MAXLEN', '~', 100000, '*', 'message', ARGV[3], 'error', ARGV[4], 'id', ARGV[2])
return redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
