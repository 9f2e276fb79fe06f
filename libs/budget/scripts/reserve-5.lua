--[[
  Reserves a worst-case amount against the month and (optional) day budget windows, atomically.

  KEYS[1] month window hash  <prefix>:budget:month:<YYYY-MM>      fields spent, reserved, limit, th
  KEYS[2] day window hash    <prefix>:budget:day:<YYYY-MM-DD>     same fields
  KEYS[3] holds zset         <prefix>:budget:holds                hold ids scored by expiry (ms)
  KEYS[4] hold hash          <prefix>:budget:hold:<holdId>        amount, month, day, expiresAt
  KEYS[5] finished marker    <prefix>:budget:settled:<holdId>     set once the hold is settled/released/reaped

  ARGV[1]  holdId
  ARGV[2]  amount, integer micro-dollars (>= 0)
  ARGV[3]  monthly limit, integer micro-dollars
  ARGV[4]  daily limit, integer micro-dollars, or '' for none
  ARGV[5]  hold expiry, epoch ms (caller's now + reservation TTL)
  ARGV[6]  month id (YYYY-MM), ARGV[7] day id (YYYY-MM-DD)
  ARGV[8]  month alert thresholds 'fraction:micros,...' (kept in the window for settle)
  ARGV[9]  day alert thresholds, same format, '' when there is no daily limit
  ARGV[10] epoch ms at which the month window keys may expire
  ARGV[11] epoch ms at which the day window keys may expire

  Returns one of
    {1, 'new' | 'existing', monthSpent, monthReserved, daySpent, dayReserved}   (totals after)
    {0, 'month' | 'day', monthSpent, monthReserved, daySpent, dayReserved}      (refused; nothing changed)
    {-1, marker}   the hold id was already settled, released or reaped: ids are single use
    {-2, 'month' | 'day'}  that window's hash has no `seeded` mark: Redis lost it (a restart
                   without persistence), so its spend must be rebuilt from the result store
                   (seed-2.lua) before anything is admitted against it; nothing changed
  Admission: spent + reserved + amount <= limit in every limited window, so spent + reserved
  never exceeds a limit as long as settles are not above their holds.
]]
local function totals()
  local m = redis.call('HMGET', KEYS[1], 'spent', 'reserved')
  local d = redis.call('HMGET', KEYS[2], 'spent', 'reserved')
  return tonumber(m[1] or 0), tonumber(m[2] or 0), tonumber(d[1] or 0), tonumber(d[2] or 0)
end

if redis.call('EXISTS', KEYS[4]) == 1 then
  local ms, mr, ds, dr = totals()
  return {1, 'existing', ms, mr, ds, dr}
end
local marker = redis.call('GET', KEYS[5])
if marker then
  return {-1, marker}
end

if redis.call('HEXISTS', KEYS[1], 'seeded') == 0 then return {-2, 'month'} end
if redis.call('HEXISTS', KEYS[2], 'seeded') == 0 then return {-2, 'day'} end

local amount = tonumber(ARGV[2])
local ms, mr, ds, dr = totals()
if ms + mr + amount > tonumber(ARGV[3]) then
  return {0, 'month', ms, mr, ds, dr}
end
if ARGV[4] ~= '' and ds + dr + amount > tonumber(ARGV[4]) then
  return {0, 'day', ms, mr, ds, dr}
end

mr = redis.call('HINCRBY', KEYS[1], 'reserved', amount)
dr = redis.call('HINCRBY', KEYS[2], 'reserved', amount)
-- Settle reads the limit and thresholds from the window, so a config reload applies to both.
redis.call('HSET', KEYS[1], 'limit', ARGV[3], 'th', ARGV[8])
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[2], 'limit', ARGV[4], 'th', ARGV[9])
else
  redis.call('HDEL', KEYS[2], 'limit', 'th')
end
redis.call('PEXPIREAT', KEYS[1], ARGV[10])
redis.call('PEXPIREAT', KEYS[2], ARGV[11])
redis.call('HSET', KEYS[4], 'amount', amount, 'month', ARGV[6], 'day', ARGV[7], 'expiresAt', ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
return {1, 'new', ms, mr, ds, dr}
