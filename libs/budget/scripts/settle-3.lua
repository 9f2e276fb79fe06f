--[[
  Settles a hold with the real cost: its amount leaves `reserved` and the actual cost joins
  `spent`, in the windows the hold was taken in (even if the month has rolled over since).
  Idempotent: a hold settles once; later calls answer without counting again.

  KEYS[1] holds zset         <prefix>:budget:holds
  KEYS[2] hold hash          <prefix>:budget:hold:<holdId>
  KEYS[3] finished marker    <prefix>:budget:settled:<holdId>

  ARGV[1] holdId
  ARGV[2] actual cost, integer micro-dollars (>= 0; may exceed the hold if the provider reports
          more than the worst case: spent then passes spent + reserved of the hold by that excess)
  ARGV[3] budget key prefix '<prefix>:budget:' (window and alert keys are derived from it and
          share KEYS' hash tag, so they stay in one cluster slot)
  ARGV[4] marker lifetime, ms

  Returns {status, window1, period1, threshold1, window2, ...} with status
    'settled'          the hold was settled now
    'late'             the reaper had returned the hold; the actual cost is still counted as spent
                       (the provider was paid) in the hold's windows
    'already_settled'  settled before: nothing counted
    'released'         released before (no provider cost): nothing counted
    'unknown'          no hold and no marker: nothing counted
  followed by the alert thresholds this settle reached first: spent >= fraction * limit, each
  recorded with SADD in <prefix>:budget:alerts:<window>:<period> so it is reported exactly once.
]]
local base = ARGV[3]
local actual = tonumber(ARGV[2])
local out = {}

local function spend(kind, period, amount)
  local key = base .. kind .. ':' .. period
  if amount ~= 0 then redis.call('HINCRBY', key, 'reserved', -amount) end
  local spent = redis.call('HINCRBY', key, 'spent', actual)
  local th = redis.call('HGET', key, 'th')
  if not th then return end
  local alerts = base .. 'alerts:' .. kind .. ':' .. period
  for fraction, at in string.gmatch(th, '([^,:]+):(%d+)') do
    if spent >= tonumber(at) and redis.call('SADD', alerts, fraction) == 1 then
      local ttl = redis.call('PTTL', key)
      if ttl > 0 then redis.call('PEXPIRE', alerts, ttl) end
      out[#out + 1] = kind
      out[#out + 1] = period
      out[#out + 1] = fraction
    end
  end
end

local hold = redis.call('HMGET', KEYS[2], 'amount', 'month', 'day')
if hold[1] then
  local amount = tonumber(hold[1])
  out[1] = 'settled'
  spend('month', hold[2], amount)
  spend('day', hold[3], amount)
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('SET', KEYS[3], 'settled', 'PX', ARGV[4])
  return out
end

local marker = redis.call('GET', KEYS[3])
if not marker then return {'unknown'} end
if marker == 'settled' then return {'already_settled'} end
if marker == 'released' then return {'released'} end
local month, day = string.match(marker, '^reaped:([^:]+):([^:]+)$')
if not month then return {'unknown'} end
out[1] = 'late'
spend('month', month, 0)
spend('day', day, 0)
redis.call('SET', KEYS[3], 'settled', 'PX', ARGV[4])
return out
