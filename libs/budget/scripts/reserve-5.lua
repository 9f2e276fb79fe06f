--[[
  Reserves a worst-case amount against the month and (optional) day budget windows, atomically.

  KEYS[1] month window hash  <prefix>:budget:month:<YYYY-MM>      fields spent, reserved, limit, th,
                                                                  seeded, xa (the expiry last set, epoch ms)
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

  Cost: every reservation runs this script, so it reads each window once (one HMGET of every field
  it needs) and writes limit, th and the key's expiry only when they differ from what the window
  holds (a config reload, a new window); the expiry last set is kept in the window as `xa`, so
  the window's TTL and the field live and die together. Steady state: 7 commands.
]]
local m = {}
local d = {}
-- Fields of a window read at once: seeded, spent, reserved, limit, th, xa.
local function read(key)
  return redis.call('HMGET', key, 'seeded', 'spent', 'reserved', 'limit', 'th', 'xa')
end

-- One command for the common case: neither the hold nor its finished marker exists.
if redis.call('EXISTS', KEYS[4], KEYS[5]) > 0 then
  if redis.call('EXISTS', KEYS[4]) == 1 then
    m, d = read(KEYS[1]), read(KEYS[2])
    return {1, 'existing', tonumber(m[2] or 0), tonumber(m[3] or 0), tonumber(d[2] or 0), tonumber(d[3] or 0)}
  end
  return {-1, redis.call('GET', KEYS[5])}
end

m = read(KEYS[1])
if not m[1] then return {-2, 'month'} end
d = read(KEYS[2])
if not d[1] then return {-2, 'day'} end

local amount = tonumber(ARGV[2])
local ms, mr, ds, dr = tonumber(m[2] or 0), tonumber(m[3] or 0), tonumber(d[2] or 0), tonumber(d[3] or 0)
if ms + mr + amount > tonumber(ARGV[3]) then
  return {0, 'month', ms, mr, ds, dr}
end
if ARGV[4] ~= '' and ds + dr + amount > tonumber(ARGV[4]) then
  return {0, 'day', ms, mr, ds, dr}
end

mr = redis.call('HINCRBY', KEYS[1], 'reserved', amount)
dr = redis.call('HINCRBY', KEYS[2], 'reserved', amount)

-- Settle reads the limit and thresholds from the window, so a config reload applies to both;
-- written (with the key's expiry) only when the window does not hold them yet.
local function keep(key, h, limit, th, expireAt)
  local fields = {}
  if limit ~= '' and (h[4] ~= limit or h[5] ~= th) then
    fields = {'limit', limit, 'th', th}
  end
  if h[6] ~= expireAt then
    redis.call('PEXPIREAT', key, expireAt)
    fields[#fields + 1] = 'xa'
    fields[#fields + 1] = expireAt
  end
  if #fields > 0 then redis.call('HSET', key, unpack(fields)) end
  if limit == '' and (h[4] or h[5]) then redis.call('HDEL', key, 'limit', 'th') end
end
keep(KEYS[1], m, ARGV[3], ARGV[8], ARGV[10])
keep(KEYS[2], d, ARGV[4], ARGV[9], ARGV[11])
redis.call('HSET', KEYS[4], 'amount', amount, 'month', ARGV[6], 'day', ARGV[7], 'expiresAt', ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
return {1, 'new', ms, mr, ds, dr}
