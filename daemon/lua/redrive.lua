-- KEYS: dead stream, the outbox (actions stream) of the dead delivery's
-- customer's shard. ARGV: the dead entry's id.
-- The dead delivery goes back to the outbox as the one field "delivery"
-- (a JSON object of its fields: its "d", the same webhook-id; attempt 1,
-- left out as the default; no status or error), and leaves the dead
-- stream in the same step: two redrives never send one twice. Returns
-- {id, trigger, kind, d, status, error} of the one moved, or nil when
-- it is gone already.
local e = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if not e[1] then return false end
local f = {}
for i = 1, #e[1][2], 2 do f[e[1][2][i]] = e[1][2][i + 1] end
local moved = {e[1][1], f.trigger or '', f.kind or '', f.d or '', f.status or '', f.error or ''}
f.status, f.error, f.attempt = nil, nil, nil
redis.call('XADD', KEYS[2], '*', 'delivery', cjson.encode(f))
redis.call('XDEL', KEYS[1], ARGV[1])
return moved
