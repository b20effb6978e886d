-- Shared by the scripts that need the lifecycle group; the same
-- rules as customer_group() in triggers/customer.c. Its inputs
-- (nudged_inputs): x is '1' (a trigger excluded the customer), the trait
-- unsubscribed is true, the time of the last order (or nil), u is '1' (a
-- message came with a userId), there is an email trait; and the last
-- order's time as text, as stored.
local function nudged_group_of(x, unsub, last_order, u, email, now, active)
  if x or unsub then return 'excluded' end
  if last_order then
    if now - last_order <= active then return 'active' end
    return 'inactive'
  end
  if u or email then return 'potential' end
  return 'interested'
end
local function nudged_last(stats)
  local s = stats and string.match(stats, '^%d+ %-?%d+ (%-?%d+)$')
  return s and s + 0, s
end
local function nudged_inputs(p)
  local x, unsub, oc, u, email = unpack(call('HMGET', p, 'x', 't:unsubscribed',
    'e:Order Completed', 'u', 't:email'))
  local last_order, last_s = nudged_last(oc)
  return x == '1', unsub == 'true', last_order, u == '1', email ~= false, last_s
end
local function nudged_group(p, now, active)
  local x, unsub, last_order, u, email = nudged_inputs(p)
  return nudged_group_of(x, unsub, last_order, u, email, now, active)
end
