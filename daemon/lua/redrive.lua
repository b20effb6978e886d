-- KEYS: dead stream, actions stream. ARGV: the first id to look at, the
-- trigger to take ("" for all), "1" for a dry run, how many to look at.
-- Each dead delivery of that trigger from that id on goes back to the
-- actions stream as the one field "delivery" (a JSON object of its
-- fields: its "d", the same webhook-id; attempt 1, left out as the
-- default; no status or error), and leaves the dead stream in the same
-- step: two redrives never send one twice. Returns {the id to go on from, or "" at
-- the end, {id, trigger, kind, d, status, error} of each one moved}.
local entries = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', tonumber(ARGV[4]))
local moved = {}
for _, e in ipairs(entries) do
  local f = {}
  for i = 1, #e[2], 2 do f[e[2][i]] = e[2][i + 1] end
  if ARGV[2] == '' or f.trigger == ARGV[2] then
    moved[#moved + 1] = {e[1], f.trigger or '', f.kind or '', f.d or '', f.status or '', f.error or ''}
    if ARGV[3] ~= '1' then
      f.status, f.error, f.attempt = nil, nil, nil
      redis.call('XADD', KEYS[2], '*', 'delivery', cjson.encode(f))
      redis.call('XDEL', KEYS[1], e[1])
    end
  end
end
local next = ''
if #entries == tonumber(ARGV[4]) then next = '(' .. entries[#entries][1] end
return {next, moved}
