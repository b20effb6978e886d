-- KEYS: source stream, target stream. ARGV: group, entry id, reason, "1" to
-- delete it from the source. Copies the entry with "error" and "id" added
-- (a delivery's JSON as its fields, as a dead delivery has them), then
-- acks it (and deletes it from nudged's own actions stream; the events
-- stream belongs to the producers and other groups may still read it).
local e = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if e[1] then
  local args = {KEYS[2], 'MAXLEN', '~', 100000, '*'}
  local f = e[1][2]
  local function put(k, v) if k ~= 'error' and k ~= 'id' then args[#args + 1] = k; args[#args + 1] = v end end
  for i = 1, #f, 2 do
    local ok, d = false, nil
    if f[i] == 'delivery' then ok, d = pcall(cjson.decode, f[i + 1]) end
    if ok and type(d) == 'table' then
      for k, v in pairs(d) do put(k, tostring(v)) end
    else put(f[i], f[i + 1]) end
  end
  args[#args + 1] = 'error'; args[#args + 1] = ARGV[3]
  args[#args + 1] = 'id'; args[#args + 1] = ARGV[2]
  redis.call('XADD', unpack(args))
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
if ARGV[4] == '1' then redis.call('XDEL', KEYS[1], ARGV[2]) end
return 1
