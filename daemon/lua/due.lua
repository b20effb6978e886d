-- KEYS: per shard, its schedule zset, actions stream (its outbox) and
-- timers stream (in the shard's slot; on a Redis Cluster, one shard a
-- call). ARGV: now, limit (a shard).
-- Each item is a JSON object of string fields: a delivery to retry or
-- postponed, which goes to the actions stream as it is (its "delivery"
-- field), or (with "k": "t") a waiting firing, or ("k": "g") a customer
-- whose group is due to be computed again, or ("k": "s", "d") a
-- customer's silence or date of a trigger; those four go to the timers
-- stream as fields, with their "due" time. Moving is atomic, so even when
-- two processes run this (a shard changing owner), each due item moves
-- exactly once. Returns how many moved.
local moved = 0
for s = 1, #KEYS, 3 do
  local items = redis.call('ZRANGEBYSCORE', KEYS[s], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0,
    tonumber(ARGV[2]))
  for n = 1, #items, 2 do
    local m = items[n]
    local ok, f = pcall(cjson.decode, m)
    if ok and type(f) == 'table' then
      if f.k == 't' or f.k == 'g' or f.k == 's' or f.k == 'd' then
        local args = {KEYS[s + 2], '*'}
        f.due = items[n + 1]
        for k, v in pairs(f) do args[#args + 1] = k; args[#args + 1] = tostring(v) end
        redis.call('XADD', unpack(args))
      else
        redis.call('XADD', KEYS[s + 1], '*', 'delivery', m)
      end
    end
    redis.call('ZREM', KEYS[s], m)
  end
  moved = moved + #items / 2
end
return moved
