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
]]
local function providerLimit(rpmKey, tpmKey, sumKey, callerNow, window, rpm, tpm, tokens, id)
  -- Record times never go backwards: a call that reaches Redis after a later-stamped one (clock
  -- skew, network reordering) counts at the latest time seen, so the log stays ordered and no
  -- window (t - window, t] of recorded times can exceed the limit.
  local now = callerNow
  local newest = redis.call('ZRANGE', rpmKey, -1, -1, 'WITHSCORES')
  if newest[2] and tonumber(newest[2]) > now then now = tonumber(newest[2]) end
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
    redis.call('PEXPIRE', rpmKey, window)
    redis.call('PEXPIRE', tpmKey, window)
    redis.call('PEXPIRE', sumKey, window)
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
