--[[
  Returns the holds whose expiry has passed (workers that crashed or hung holding them), oldest
  first, at most ARGV[2] per call so one call never blocks Redis for long. Each reaped hold leaves
  a 'reaped:<month>:<day>' marker so that a late settle still counts its real cost.

  KEYS[1] holds zset   <prefix>:budget:holds

  ARGV[1] now, epoch ms: holds with expiry <= now are returned
  ARGV[2] largest number of holds to return in this call
  ARGV[3] budget key prefix '<prefix>:budget:' (hold, window and marker keys derive from it)
  ARGV[4] marker lifetime, ms

  Returns {released, micros}.
]]
local base = ARGV[3]
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local micros = 0
for _, id in ipairs(ids) do
  local key = base .. 'hold:' .. id
  local hold = redis.call('HMGET', key, 'amount', 'month', 'day')
  if hold[1] then
    local amount = tonumber(hold[1])
    redis.call('HINCRBY', base .. 'month:' .. hold[2], 'reserved', -amount)
    redis.call('HINCRBY', base .. 'day:' .. hold[3], 'reserved', -amount)
    redis.call('SET', base .. 'settled:' .. id, 'reaped:' .. hold[2] .. ':' .. hold[3], 'PX', ARGV[4])
    redis.call('DEL', key)
    micros = micros + amount
  end
  redis.call('ZREM', KEYS[1], id)
end
return {#ids, micros}
