-- KEYS: 1-4 the anonymous id's profile, dedup set, schedule index and
-- link; 5-8 the user's profile, dedup set, schedule index and merged-ids
-- set; 9 the schedule; 10 the user's own link; 11 the buyers zset. ARGV:
-- anonymous id, user id, profile ttl, the profile field of orders. Folds the
-- anonymous history into the user (customer_merge in triggers/customer.c
-- does the same for replay), moves its scheduled items, deletes its keys
-- and links the anonymous id to the user, all at once (a member in both
-- dedup sets keeps the lower score: the newer second, see
-- profile_add_dedup_score);
-- the user's version (v, include/pcache.h) goes up by one. An id already
-- linked, or a user that is itself linked elsewhere, is left alone.
-- Returns {merged (0 or 1), scheduled items moved}. Touches two customers'
-- slots: not Redis Cluster safe.
if redis.call('EXISTS', KEYS[4]) == 1 or redis.call('EXISTS', KEYS[10]) == 1 then return {0, 0} end
local from, moved = redis.call('HGETALL', KEYS[1]), 0
if #from > 0 then
  local into, cur = {}, redis.call('HGETALL', KEYS[5])
  for i = 1, #cur, 2 do into[cur[i]] = cur[i + 1] end
  local set = {KEYS[5]}
  local function put(k, v) set[#set + 1] = k; set[#set + 1] = v end
  local function times(a, b)
    local t, out = {}, {}
    for x in string.gmatch((a or '') .. ' ' .. (b or ''), '%-?%d+') do t[#t + 1] = tonumber(x) end
    table.sort(t)
    for i = math.max(1, #t - 99), #t do out[#out + 1] = string.format('%d', t[i]) end
    return table.concat(out, ' ')
  end
  for i = 1, #from, 2 do
    local k, v = from[i], from[i + 1]
    local u, p = into[k], string.sub(k, 1, 2)
    local a1, b1, c1, a2, b2, c2
    if p == 'e:' and u then
      a1, b1, c1 = string.match(v, '^(%d+) (%-?%d+) (%-?%d+)$')
      a2, b2, c2 = string.match(u, '^(%d+) (%-?%d+) (%-?%d+)$')
    end
    if a1 and a2 then put(k, string.format('%d %d %d', a1 + a2, math.min(b1, b2), math.max(c1, c2)))
    elseif p == 'w:' or p == 'l:' then put(k, times(v, u))
    elseif k == 'v' then
    elseif (k == 'u' or k == 'x') and v == '1' then put(k, '1')
    elseif k == 'rv' and u then put(k, string.format('%.15g', tonumber(v) + tonumber(u)))
    elseif k == 'sc' and u then put(k, string.format('%d', tonumber(v) + tonumber(u)))
    elseif not u then put(k, v) end
  end
  if #set > 1 then redis.call('HSET', unpack(set)) end
  redis.call('HINCRBY', KEYS[5], 'v', 1)
  redis.call('ZUNIONSTORE', KEYS[6], 2, KEYS[6], KEYS[2], 'AGGREGATE', 'MIN')
  for _, m in ipairs(redis.call('SMEMBERS', KEYS[3])) do
    local score = redis.call('ZSCORE', KEYS[9], m)
    local ok, item = pcall(cjson.decode, m)
    if score and ok and type(item) == 'table' then
      item.customer = ARGV[2]
      local nm = cjson.encode(item)
      redis.call('ZREM', KEYS[9], m)
      redis.call('ZADD', KEYS[9], score, nm)
      redis.call('SADD', KEYS[7], nm)
      moved = moved + 1
    end
  end
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
  redis.call('ZREM', KEYS[11], ARGV[1]) -- the buyer is the user now, with the revenue summed
  if redis.call('HEXISTS', KEYS[5], ARGV[4]) == 1 then
    redis.call('ZADD', KEYS[11], redis.call('HGET', KEYS[5], 'rv') or 0, ARGV[2])
  end
  for k = 5, 7 do redis.call('PEXPIRE', KEYS[k], ARGV[3]) end
end
redis.call('SET', KEYS[4], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[8], ARGV[1])
redis.call('PEXPIRE', KEYS[8], ARGV[3])
return {1, moved}
