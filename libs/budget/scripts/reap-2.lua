--[[
  Charges the holds whose expiry has passed (their workers crashed or hung holding them), oldest
  first, at most ARGV[2] per call so one call never blocks Redis for long. A dead worker may have
  been answered, and paid for, before it died: each such hold is charged at its reserved amount
  (moved from reserved to spent, and counted in the window's `charged`), never returned, so spend
  stays an upper bound of what was paid. Its 'charged:<month>:<day>:<amount>' marker lets the
  job's kept answer, settled later, correct spend to the real cost (settle-4.lua).

  KEYS[1] holds zset     <prefix>:budget:holds
  KEYS[2] event stream   <prefix>:events:budget    (thresholds reached by the charges)

  ARGV[1] now, epoch ms: holds with expiry <= now are charged
  ARGV[2] largest number of holds to charge in this call
  ARGV[3] budget key prefix '<prefix>:budget:' (hold, window, marker and alert keys derive from it)
  ARGV[4] marker lifetime, ms
  ARGV[5] approximate length the event stream is trimmed to
  ARGV[6] now as an ISO-8601 string (the events' `at`)

  Returns {charged, micros, window1, period1, threshold1, window2, ...}: the holds charged, their
  amount, then the thresholds these charges reached first.
]]
local base = ARGV[3]
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local events = {}
local charged, micros = 0, 0
for _, id in ipairs(ids) do
  local amount = budget_charge(base, KEYS[1], id, ARGV[4], KEYS[2], ARGV[5], ARGV[6], events)
  if amount then
    charged = charged + 1
    micros = micros + amount
  end
end
local out = {charged, micros}
for _, v in ipairs(events) do out[#out + 1] = v end
return out
