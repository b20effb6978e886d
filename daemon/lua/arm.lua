-- uses: locals
-- KEYS: schedule zset, then one customer's schedule index per item.
-- ARGV: profile ttl, then per item its due and member: a silence item of
-- that customer (schedule.h) armed at due, or moved later. ZADD GT never
-- moves one earlier, so batches that finish out of order keep the latest
-- silence. A member new to the schedule joins its customer's index, so
-- erasure finds it. One call arms a whole round of a batch.
local ttl = argv[1]
for i = 2, #argv, 2 do
  if call('ZADD', keys[1], 'GT', argv[i], argv[i + 1]) == 1 then
    local idx = keys[i / 2 + 1]
    call('SADD', idx, argv[i + 1])
    call('PEXPIRE', idx, ttl)
  end
end
return 1
