#!lua flags=allow-oom
-- Takes, keeps and lets go of shard leases (SPEC 8) in one call.
-- KEYS: the lease of each shard. ARGV: this process's name, the lease in
-- ms, then per shard "1" when it is this process's share, else "0".
-- A wanted lease that is free is taken, one held is renewed; a lease not
-- wanted is let go when held. A lease held by another is left alone: its
-- holder lets it go, or it runs out. Returns one letter per shard: "1"
-- held by this process after the call, "0" not.
local me, ms, out = ARGV[1], ARGV[2], {}
for i = 1, #KEYS do
  local cur = redis.call('GET', KEYS[i])
  local held = false
  if ARGV[2 + i] == '1' then
    if cur == me then
      redis.call('PEXPIRE', KEYS[i], ms)
      held = true
    elseif not cur then
      redis.call('SET', KEYS[i], me, 'PX', ms)
      held = true
    end
  elseif cur == me then
    redis.call('DEL', KEYS[i])
  end
  out[i] = held and '1' or '0'
end
return table.concat(out)
