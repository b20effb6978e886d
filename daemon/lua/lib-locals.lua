-- Put first in every script that uses the functions below: in Redis's
-- Lua each use of a global (redis.call, ARGV) is a table lookup, and the
-- scripts make dozens per call; a local is a register.
local call, argv, keys, unpack = redis.call, ARGV, KEYS, unpack
