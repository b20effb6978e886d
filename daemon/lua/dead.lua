-- KEYS: actions stream, dead stream. ARGV: group, entry id, field/value pairs.
local args = {KEYS[2], 'MAXLEN', '~', 100000, '*'}
for i = 3, #ARGV do args[#args + 1] = ARGV[i] end
redis.call('XADD', unpack(args))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return redis.call('XDEL', KEYS[1], ARGV[2])
