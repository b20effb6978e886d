-- A trait's new stored value: an object merges deeply into the stored
-- object (the new value wins inside it), anything else replaces it; as
-- customer_trait_merge() in C.
local function nudged_deep(a, b)
  for k, v in pairs(b) do
    if type(v) == 'table' and type(a[k]) == 'table' and next(v) ~= 1 and next(a[k]) ~= 1 then
      nudged_deep(a[k], v)
    else a[k] = v end
  end
  return a
end
local function nudged_trait(p, name, val)
  if string.sub(val, 1, 1) ~= '{' then return val end
  local old = call('HGET', p, 't:' .. name)
  if not old or string.sub(old, 1, 1) ~= '{' then return val end
  local ok1, a = pcall(cjson.decode, old)
  local ok2, b = pcall(cjson.decode, val)
  if not (ok1 and ok2) then return val end
  return cjson.encode(nudged_deep(a, b))
end
