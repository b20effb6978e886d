-- uses: locals
-- KEYS: per item, the schedule of its customer's shard and the
-- customer's schedule index.
-- ARGV: profile ttl, then per item "gt" or "", its due and member: a
-- silence or date item of that customer (schedule.h) armed at due. A
-- silence ("gt") is only ever moved later, so batches that finish out of
-- order keep the latest; a date moves either way, as its trait did. A
-- member new to the schedule joins its customer's index, so erasure finds
-- it. One call arms a whole round of a batch.
local ttl = argv[1]
for i = 2, #argv, 3 do
  local zset, idx = keys[2 * (i - 2) / 3 + 1], keys[2 * (i - 2) / 3 + 2]
  local added
  if argv[i] == 'gt' then
    added = call('ZADD', zset, 'GT', argv[i + 1], argv[i + 2])
  else
    added = call('ZADD', zset, argv[i + 1], argv[i + 2])
  end
  if added == 1 then
    call('SADD', idx, argv[i + 2])
    call('PEXPIRE', idx, ttl)
  end
end
return 1
