-- Keeps the times in OLD at or after MIN, adds T, returns the newest KEEP
-- joined by spaces: windowed counters and limits (push_time in C).
local function nudged_times(old, min, t, keep)
  local kept = {}
  if old then for x in string.gmatch(old, '%-?%d+') do
    if x + 0 >= min and #kept < 100 then kept[#kept + 1] = x end
  end end
  if t then kept[#kept + 1] = string.format('%d', t) end
  return kept, table.concat(kept, ' ', math.max(1, #kept - keep + 1))
end
