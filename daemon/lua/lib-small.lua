-- The small counts in ARGV (arguments of a firing, counters, traits) as
-- numbers by a table lookup. Redis's Lua turns a string into a number with
-- strtod, twice in tonumber(), where a lookup is a hash probe; `s + 0`
-- converts the rest with one strtod.
local nudged_small = {['0'] = 0, ['1'] = 1, ['2'] = 2, ['3'] = 3, ['4'] = 4, ['5'] = 5, ['6'] = 6,
  ['7'] = 7, ['8'] = 8, ['9'] = 9, ['10'] = 10, ['11'] = 11, ['12'] = 12, ['-1'] = -1}
