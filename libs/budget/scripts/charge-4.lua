--[[
  Charges one open hold at its reserved amount: for a run that stops without knowing whether the
  provider answered (an aborted call, a shutdown past its grace). Like the reaper (reap-2.lua), it
  moves the amount from reserved to spent, counts it in the windows' `charged`, and leaves a
  'charged:<month>:<day>:<amount>' marker that a later settle or release corrects. Idempotent: a
  hold that is not open is left alone.

  KEYS[1] holds zset         <prefix>:budget:holds
  KEYS[2] hold hash          <prefix>:budget:hold:<holdId>
  KEYS[3] finished marker    <prefix>:budget:settled:<holdId>
  KEYS[4] event stream       <prefix>:events:budget

  ARGV[1] holdId
  ARGV[2] budget key prefix '<prefix>:budget:' (window and alert keys derive from it, same hash tag)
  ARGV[3] marker lifetime, ms
  ARGV[4] approximate length the event stream is trimmed to
  ARGV[5] now as an ISO-8601 string (the events' `at`)

  Returns {amount, window1, period1, threshold1, ...} when charged now, {-1} when the hold was not open.
]]
local events = {}
local amount = budget_charge(ARGV[2], KEYS[1], ARGV[1], ARGV[3], KEYS[4], ARGV[4], ARGV[5], events)
if not amount then return {-1} end
local out = {amount}
for _, v in ipairs(events) do out[#out + 1] = v end
return out
