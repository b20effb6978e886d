-- uses: locals
-- KEYS: schedule zset, then one customer's schedule index per item.
-- ARGV: profile ttl, then per item "gt" or "", its due and member: a
-- silence or date item of that customer (schedule.h) armed at due. A
-- silence ("gt") is only ever moved later, so batches that finish out of
-- order keep the latest; a date moves either way, as its trait did. A
-- member new to the schedule joins its customer's index, so erasure finds
-- it. One call arms a whole round of a batch.
local ttl = argv[1]
for i = 2, #argv, 3 do
  local added
  if argv[i] == 'gt' then
    added = call('ZADD', keys[1], 'GT', argv[i + 1], argv[i + 2])
  else
    added = call('ZADD', keys[1], argv[i + 1], argv[i + 2])
  end
  if added == 1 then
    local idx = keys[(i - 2) / 3 + 2]
    call('SADD', idx, argv[i + 2])
    call('PEXPIRE', idx, ttl)
  end
end
return 1
