--[[
  Returns an unused hold (no provider cost) to the budget. Idempotent: only an open hold is
  released; a settled, released or reaped one is left alone.

  KEYS[1] holds zset         <prefix>:budget:holds
  KEYS[2] hold hash          <prefix>:budget:hold:<holdId>
  KEYS[3] finished marker    <prefix>:budget:settled:<holdId>

  ARGV[1] holdId
  ARGV[2] budget key prefix '<prefix>:budget:' (window keys derive from it, same hash tag)
  ARGV[3] marker lifetime, ms

  Returns {1, amount} when released now, {0, 0} otherwise.
]]
local hold = redis.call('HMGET', KEYS[2], 'amount', 'month', 'day')
if not hold[1] then return {0, 0} end
local amount = tonumber(hold[1])
redis.call('HINCRBY', ARGV[2] .. 'month:' .. hold[2], 'reserved', -amount)
redis.call('HINCRBY', ARGV[2] .. 'day:' .. hold[3], 'reserved', -amount)
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('SET', KEYS[3], 'released', 'PX', ARGV[3])
return {1, amount}
