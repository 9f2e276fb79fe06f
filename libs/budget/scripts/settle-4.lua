--[[
  Settles a hold with the real cost: its amount leaves `reserved` and the actual cost joins
  `spent`, in the windows the hold was taken in (even if the month has rolled over since).
  Idempotent: a hold settles once; later calls answer without counting again.

  KEYS[1] holds zset         <prefix>:budget:holds
  KEYS[2] hold hash          <prefix>:budget:hold:<holdId>
  KEYS[3] finished marker    <prefix>:budget:settled:<holdId>
  KEYS[4] event stream       <prefix>:events:budget

  ARGV[1] holdId
  ARGV[2] actual cost, integer micro-dollars (>= 0; may exceed the hold if the provider reports
          more than the worst case: spent then passes spent + reserved of the hold by that excess)
  ARGV[3] budget key prefix '<prefix>:budget:' (window and alert keys are derived from it and
          share KEYS' hash tag, so they stay in one cluster slot)
  ARGV[4] marker lifetime, ms
  ARGV[5] approximate length the event stream is trimmed to
  ARGV[6] now as an ISO-8601 string (the events' `at`)

  Returns {status, window1, period1, threshold1, window2, ...} with status
    'settled'          the hold was settled now
    'corrected'        the hold had been charged at its reserved amount (reaper or charge-4.lua):
                       spent moves by actual - amount and the charge leaves `charged`
    'late'             the hold had been returned by an earlier reaper ('reaped:' marker): the
                       actual cost is counted as spent (the provider was paid)
    'already_settled'  settled before: nothing counted
    'released'         released before (no provider cost): nothing counted
    'unknown'          no hold and no marker: nothing counted
  followed by the alert thresholds this settle reached first, each also appended to KEYS[4].
]]
local base = ARGV[3]
local actual = tonumber(ARGV[2])
local stream, maxlen, at = KEYS[4], ARGV[5], ARGV[6]
local out = {}

local function finish(status)
  table.insert(out, 1, status)
  redis.call('SET', KEYS[3], 'settled', 'PX', ARGV[4])
  return out
end

local hold = redis.call('HMGET', KEYS[2], 'amount', 'month', 'day')
if hold[1] then
  local amount = tonumber(hold[1])
  budget_move(base, 'month', hold[2], -amount, actual, 0, stream, maxlen, at, out)
  budget_move(base, 'day', hold[3], -amount, actual, 0, stream, maxlen, at, out)
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[1], ARGV[1])
  return finish('settled')
end

local marker = redis.call('GET', KEYS[3])
if not marker then return {'unknown'} end
if marker == 'settled' then return {'already_settled'} end
if marker == 'released' then return {'released'} end
local month, day, amount = budget_charged(marker)
if month then
  budget_move(base, 'month', month, 0, actual - amount, -amount, stream, maxlen, at, out)
  budget_move(base, 'day', day, 0, actual - amount, -amount, stream, maxlen, at, out)
  return finish('corrected')
end
month, day = string.match(marker, '^reaped:([^:]+):([^:]+)$')
if not month then return {'unknown'} end
budget_move(base, 'month', month, 0, actual, 0, stream, maxlen, at, out)
budget_move(base, 'day', day, 0, actual, 0, stream, maxlen, at, out)
return finish('late')
