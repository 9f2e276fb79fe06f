--[[
  Prelude of acquire-3.lua and of the admission script (libs/resilience/admit-4.lua): a
  provider's sliding-log limit on requests and tokens together (RPM and TPM). Each log keeps
  only admitted requests of the last window: at most `rpm` entries each.

  providerLimit(rpmKey, tpmKey, sumKey, callerNow, window, rpm, tpm, tokens, id)
    rpmKey    request log zset   {<prefix>:rl:<provider>}:rpm       member id -> admission time (ms)
    tpmKey    token log zset     {<prefix>:rl:<provider>}:tpm       '<id>:<tokens>' -> admission time (ms)
    sumKey    token sum          {<prefix>:rl:<provider>}:tpm:sum   tokens in tpmKey, kept so no call sums the log
    callerNow epoch ms (from the caller); window ms (60000); rpm and tpm: requests and tokens
              admitted in any window (t - window, t]; tokens of this request (<= tpm; the caller
              refuses larger ones); id: member id, unique per call

  Admits and records the request when both limits allow it and answers 0; else records nothing
  (past entries that left the window are dropped) and answers the milliseconds (>= 1) until both
  limits would admit it.

  Expiry (rl_expire_due): the three keys live two windows from the first admission of each
  window-aligned period (floor(t / window)), so every admission t is kept until at least
  t + window without a PEXPIRE per call (the keys outlive their last admission by one to two
  windows). While processes of a release that set one window per admission still run beside
  these (a rolling upgrade), theirs can shorten the TTL and a log may drop its last entries early.
]]

-- True when an admission at `now` must set the keys' TTL: the log is empty, or its newest entry
-- (`newest`, a score or nil) was admitted in an earlier window-aligned period.
local function rl_expire_due(newest, now, window)
  return not newest or math.floor(newest / window) ~= math.floor(now / window)
end
local function providerLimit(rpmKey, tpmKey, sumKey, callerNow, window, rpm, tpm, tokens, id)
  -- Record times never go backwards: a call that reaches Redis after a later-stamped one (clock
  -- skew, network reordering) counts at the latest time seen, so the log stays ordered and no
  -- window (t - window, t] of recorded times can exceed the limit.
  local now = callerNow
  local newest = redis.call('ZRANGE', rpmKey, -1, -1, 'WITHSCORES')
  local newestAt = tonumber(newest[2])
  if newestAt and newestAt > now then now = newestAt end
  local cutoff = now - window

  redis.call('ZREMRANGEBYSCORE', rpmKey, '-inf', cutoff)
  local expired = redis.call('ZRANGEBYSCORE', tpmKey, '-inf', cutoff)
  if #expired > 0 then
    local freed = 0
    for _, m in ipairs(expired) do freed = freed + tonumber(string.match(m, ':(%d+)$')) end
    redis.call('ZREMRANGEBYSCORE', tpmKey, '-inf', cutoff)
    redis.call('DECRBY', sumKey, freed)
  end

  local count = redis.call('ZCARD', rpmKey)
  local used = tonumber(redis.call('GET', sumKey) or 0)
  if count < rpm and used + tokens <= tpm then
    redis.call('ZADD', rpmKey, now, id)
    redis.call('ZADD', tpmKey, now, id .. ':' .. tokens)
    redis.call('INCRBY', sumKey, tokens)
    if rl_expire_due(newestAt, now, window) then
      redis.call('PEXPIRE', rpmKey, 2 * window)
      redis.call('PEXPIRE', tpmKey, 2 * window)
      redis.call('PEXPIRE', sumKey, 2 * window)
    end
    return 0
  end

  local wait = 1
  if count >= rpm then
    local oldest = redis.call('ZRANGE', rpmKey, count - rpm, count - rpm, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - callerNow)
  end
  if used + tokens > tpm then
    -- Walk the oldest entries until enough tokens would have left the window.
    local need = used + tokens - tpm
    local freed = 0
    local start = 0
    while freed < need do
      local page = redis.call('ZRANGE', tpmKey, start, start + 127, 'WITHSCORES')
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
end
