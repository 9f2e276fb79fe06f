--[[
  Sliding-log rate limit on requests: admits and records one request, or answers how long to wait.
  The log keeps only admitted requests of the last window, so it holds at most `limit` entries.

  KEYS[1] request log zset   e.g. {<prefix>:rl:client:<clientId>} member id -> admission time (ms)

  ARGV[1] now, epoch ms (from the caller, so every process and test shares one notion of time)
  ARGV[2] window, ms (60000 for per-minute limits)
  ARGV[3] limit: requests admitted in any window of ARGV[2] ms (a window is (t - window, t])
  ARGV[4] member id, unique per call

  Returns 0 when admitted, else the milliseconds (>= 1) until the oldest entry that must leave
  leaves the window.

  Expiry: the log lives two windows from the first admission of each window-aligned period
  (floor(t / window)), so every admission t is kept until at least t + window without a PEXPIRE
  per call (as providerLimit.lua; the same caveat during a rolling upgrade).
]]
local callerNow = tonumber(ARGV[1])
-- Record times never go backwards: a call that reaches Redis after a later-stamped one (clock
-- skew, network reordering) counts at the latest time seen, so the log stays ordered and no
-- window (t - window, t] of recorded times can exceed the limit.
local now = callerNow
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local newestAt = tonumber(newest[2])
if newestAt and newestAt > now then now = newestAt end
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  if not newestAt or math.floor(newestAt / window) ~= math.floor(now / window) then
    redis.call('PEXPIRE', KEYS[1], 2 * window)
  end
  return 0
end
-- After a limit is lowered the log may hold more than `limit`: wait for enough of them to leave.
local oldest = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - callerNow)
