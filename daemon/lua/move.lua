-- Moves entries of the inbox to their shards' streams, each exactly once.
-- KEYS: the inbox, then per entry the stream of its customer's shard.
-- ARGV: the group, then per entry its inbox id and its message.
-- An entry is acked first: only the call whose XACK took it off the
-- pending list adds it (a process that claimed it too, or repeats the
-- call after a lost reply, moves nothing), in the same call. The copy
-- keeps the inbox id in a field inbox_id: a message without messageId is
-- de-duplicated by it, as it would have been in the inbox; and takes it
-- as its own id when it can. Returns the number moved.
-- On a Redis Cluster the inbox is in another slot than the shards'
-- streams: the group is then "" and KEYS holds the streams alone; the
-- call adds the copies, and the caller acks them after (at least once:
-- a copy added twice is a repeat of its messageId, or of its inbox id).
local acking = ARGV[1] ~= ''
local first = acking and 2 or 1
local moved = 0
for i = first, #KEYS do
  local j = i - first + 1
  local id, message = ARGV[2 * j], ARGV[2 * j + 1]
  if not acking or redis.call('XACK', KEYS[1], ARGV[1], id) == 1 then
    -- The inbox id itself when the stream has nothing later, so the
    -- entries of two shards keep the inbox's order (readers merge the
    -- shards' streams by id); else the next id.
    local added = redis.pcall('XADD', KEYS[i], id, 'message', message, 'inbox_id', id)
    if type(added) == 'table' and added.err then
      redis.call('XADD', KEYS[i], '*', 'message', message, 'inbox_id', id)
    end
    moved = moved + 1
  end
end
return moved
