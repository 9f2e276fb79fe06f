--[[
  Returns a hold whose provider call certainly never happened (refused before any call, or every
  try failed without a billed answer) to the budget. Idempotent: an open hold is released; a
  hold charged without a known answer (reaper, charge-4.lua) has its charge taken back, since its
  own worker now knows nothing was paid; a settled or released one is left alone.

  KEYS[1] holds zset         <prefix>:budget:holds
  KEYS[2] hold hash          <prefix>:budget:hold:<holdId>
  KEYS[3] finished marker    <prefix>:budget:settled:<holdId>

  ARGV[1] holdId
  ARGV[2] budget key prefix '<prefix>:budget:' (window keys derive from it, same hash tag)
  ARGV[3] marker lifetime, ms

  Returns {1, amount} when released (or uncharged) now, {0, 0} otherwise.
]]
local base = ARGV[2]
local hold = redis.call('HMGET', KEYS[2], 'amount', 'month', 'day')
if hold[1] then
  local amount = tonumber(hold[1])
  redis.call('HINCRBY', base .. 'month:' .. hold[2], 'reserved', -amount)
  redis.call('HINCRBY', base .. 'day:' .. hold[3], 'reserved', -amount)
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('SET', KEYS[3], 'released', 'PX', ARGV[3])
  return {1, amount}
end
local marker = redis.call('GET', KEYS[3])
if not marker then return {0, 0} end
local month, day, amount = budget_charged(marker)
if not month then return {0, 0} end
budget_move(base, 'month', month, 0, -amount, -amount, '', 0, '', {})
budget_move(base, 'day', day, 0, -amount, -amount, '', 0, '', {})
redis.call('SET', KEYS[3], 'released', 'PX', ARGV[3])
return {1, amount}
