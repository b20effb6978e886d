-- uses: locals
-- KEYS: schedule zset, the customer's schedule index. ARGV: profile ttl,
-- then pairs of due, member: each a silence item of the customer
-- (schedule.h) armed at due, or moved later. ZADD GT never moves one
-- earlier, so batches that finish out of order keep the latest silence.
-- A member new to the schedule joins the index, so erasure finds it.
for i = 2, #argv, 2 do
  if call('ZADD', keys[1], 'GT', argv[i], argv[i + 1]) == 1 then call('SADD', keys[2], argv[i + 1]) end
end
if call('EXISTS', keys[2]) == 1 then call('PEXPIRE', keys[2], argv[1]) end
return 1
