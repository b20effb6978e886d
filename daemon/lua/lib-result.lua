-- One entry's result in a script that works on a run of entries under
-- pcall: its reply, or its error (a bad key fails that entry alone).
local function nudged_result(ok, r)
  if ok or (type(r) == 'table' and r.err) then return r end
  return {err = tostring(r)}
end
