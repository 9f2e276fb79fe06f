--[[
  Sliding-log rate limit on requests and tokens together (a provider's RPM and TPM): admits and
  records a request of N tokens only if both limits allow it, else answers how long to wait.
  Each log keeps only admitted requests of the last window: at most `rpm` entries each.

  KEYS[1] request log zset   {<prefix>:rl:<provider>}:rpm     member id -> admission time (ms)
  KEYS[2] token log zset     {<prefix>:rl:<provider>}:tpm     '<id>:<tokens>' -> admission time (ms)
  KEYS[3] token sum          {<prefix>:rl:<provider>}:tpm:sum     tokens in KEYS[2], kept so no call sums the log

  ARGV[1] now, epoch ms (from the caller)
  ARGV[2] window, ms (60000)
  ARGV[3] rpm: requests admitted in any window (t - window, t]
  ARGV[4] tpm: tokens admitted in any such window
  ARGV[5] tokens of this request (<= tpm; the caller refuses larger ones)
  ARGV[6] member id, unique per call

  Returns 0 when admitted, else the milliseconds (>= 1) until both limits would admit it.
]]
local callerNow = tonumber(ARGV[1])
-- Record times never go backwards: a call that reaches Redis after a later-stamped one (clock
-- skew, network reordering) counts at the latest time seen, so the log stays ordered and no
-- window (t - window, t] of recorded times can exceed the limit.
local now = callerNow
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if newest[2] and tonumber(newest[2]) > now then now = tonumber(newest[2]) end
local window = tonumber(ARGV[2])
local rpm = tonumber(ARGV[3])
local tpm = tonumber(ARGV[4])
local tokens = tonumber(ARGV[5])
local cutoff = now - window

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff)
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', cutoff)
if #expired > 0 then
  local freed = 0
  for _, m in ipairs(expired) do freed = freed + tonumber(string.match(m, ':(%d+)$')) end
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cutoff)
  redis.call('DECRBY', KEYS[3], freed)
end

local count = redis.call('ZCARD', KEYS[1])
local used = tonumber(redis.call('GET', KEYS[3]) or 0)
if count < rpm and used + tokens <= tpm then
  redis.call('ZADD', KEYS[1], now, ARGV[6])
  redis.call('ZADD', KEYS[2], now, ARGV[6] .. ':' .. tokens)
  redis.call('INCRBY', KEYS[3], tokens)
  redis.call('PEXPIRE', KEYS[1], window)
  redis.call('PEXPIRE', KEYS[2], window)
  redis.call('PEXPIRE', KEYS[3], window)
  return 0
end

local wait = 1
if count >= rpm then
  local oldest = redis.call('ZRANGE', KEYS[1], count - rpm, count - rpm, 'WITHSCORES')
  wait = math.max(wait, tonumber(oldest[2]) + window - callerNow)
end
if used + tokens > tpm then
  -- Walk the oldest entries until enough tokens would have left the window.
  local need = used + tokens - tpm
  local freed = 0
  local start = 0
  while freed < need do
    local page = redis.call('ZRANGE', KEYS[2], start, start + 127, 'WITHSCORES')
    if #page == 0 then break end
    for i = 1, #page, 2 do
      freed = freed + tonumber(string.match(page[i], ':(%d+)$'))
      if freed >= need then
        wait = math.max(wait, tonumber(page[i + 1]) + window - callerNow)
        break
      end
    end
    start = start + 128
  end
end
return wait
