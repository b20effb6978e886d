-- Schedules MEMBER at DUE and remembers it in the customer's index IDX,
-- so erasing the customer can cancel it; members already moved out of the
-- schedule are dropped from the index now and then. A member that was
-- only moved (the regroup item of a customer who ordered again) is
-- already in the index.
local function nudged_schedule(zset, idx, due, member, ttl)
  if call('ZADD', zset, due, member) == 0 then return end
  call('SADD', idx, member)
  if call('SCARD', idx) > 16 then
    for _, m in ipairs(call('SRANDMEMBER', idx, 8)) do
      if not call('ZSCORE', zset, m) then call('SREM', idx, m) end
    end
  end
  call('PEXPIRE', idx, ttl)
end
