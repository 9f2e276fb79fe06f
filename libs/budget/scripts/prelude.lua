--[[
  Shared functions of the budget scripts that move `spent` (settle, charge, reap, release):
  prepended to each of them when it is loaded (budgetStore.ts), so every one counts money and
  announces thresholds the same way. Not a script of its own: it defines functions only.

  Window hashes <base><month|day>:<period> carry spent, reserved, charged (charged at a hold's
  reserved amount without a known answer: its worker died), limit and th ('fraction:micros,...').
]]

-- An integer sum as the string HINCRBY can read again: '%.0f' is exact below 2^53 micro-dollars
-- and never '1e+15'; adding 0 turns -0 into 0.
local function budget_int(n)
  return string.format('%.0f', n + 0)
end

-- Adds the deltas to one window and, when spent reaches a threshold first in that window
-- (SADD to <base>alerts:<kind>:<period>), appends the event to the stream in this same script,
-- so an announced threshold can never be lost between the two. Appends kind, period, fraction
-- of each to `out`. Reads the window once and writes it once (every settle runs this twice);
-- sums are written as integer strings (budget_int).
local function budget_move(base, kind, period, d_reserved, d_spent, d_charged, stream, maxlen, at, out)
  local key = base .. kind .. ':' .. period
  local h = redis.call('HMGET', key, 'spent', 'reserved', 'charged', 'th')
  local spent = (tonumber(h[1]) or 0) + d_spent
  local fields = {'spent', budget_int(spent)}
  if d_reserved ~= 0 then
    fields[#fields + 1] = 'reserved'
    fields[#fields + 1] = budget_int((tonumber(h[2]) or 0) + d_reserved)
  end
  if d_charged ~= 0 then
    fields[#fields + 1] = 'charged'
    fields[#fields + 1] = budget_int((tonumber(h[3]) or 0) + d_charged)
  end
  redis.call('HSET', key, unpack(fields))
  if d_spent <= 0 then return end
  local th = h[4]
  if not th then return end
  local alerts = base .. 'alerts:' .. kind .. ':' .. period
  for fraction, micros in string.gmatch(th, '([^,:]+):(%d+)') do
    if spent >= tonumber(micros) and redis.call('SADD', alerts, fraction) == 1 then
      local ttl = redis.call('PTTL', key)
      if ttl > 0 then redis.call('PEXPIRE', alerts, ttl) end
      redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'type', 'budget.threshold_crossed', 'window', kind, 'period', period, 'threshold', fraction, 'at', at)
      out[#out + 1] = kind
      out[#out + 1] = period
      out[#out + 1] = fraction
    end
  end
end

-- Charges one open hold at its reserved amount (reserved -> spent, counted in `charged` too) and
-- leaves the marker 'charged:<month>:<day>:<amount>' for a later settle or release to correct.
-- Returns the amount, or nil when the hold is not open.
local function budget_charge(base, holds, id, marker_ttl, stream, maxlen, at, out)
  local key = base .. 'hold:' .. id
  local hold = redis.call('HMGET', key, 'amount', 'month', 'day')
  redis.call('ZREM', holds, id)
  if not hold[1] then return nil end
  local amount = tonumber(hold[1])
  budget_move(base, 'month', hold[2], -amount, amount, amount, stream, maxlen, at, out)
  budget_move(base, 'day', hold[3], -amount, amount, amount, stream, maxlen, at, out)
  redis.call('SET', base .. 'settled:' .. id, 'charged:' .. hold[2] .. ':' .. hold[3] .. ':' .. amount, 'PX', marker_ttl)
  redis.call('DEL', key)
  return amount
end

-- The windows and amount a charged marker names, or nil.
local function budget_charged(marker)
  local month, day, amount = string.match(marker, '^charged:([^:]+):([^:]+):(%d+)$')
  if not month then return nil end
  return month, day, tonumber(amount)
end
