--[[
  Admission of one provider call in one round trip: the provider's shared circuit breaker, then
  its rate limit (RPM and TPM). Runs after the preludes breakerGate.lua and
  libs/ratelimit/scripts/providerLimit.lua: it does what breakerAcquire-1.lua and acquire-3.lua do
  one after the other, on the same keys with the same fields, so processes that still run those two
  scripts share the breaker and the limit with this one.

  The order keeps both resources from leaking:
    1. the breaker is read first, writing nothing: a refusal answers at once, and the rate limit is
       not touched (a provider that cannot be called spends none of its allowance);
    2. the rate limit is asked next: when it says wait, nothing was recorded in its logs and the
       half-open trial was not taken (the breaker stays as it was, so another process may take the
       trial meanwhile), and the caller waits or requeues;
    3. only when the rate limit admitted the call is the trial token taken (if the breaker is due
       for one). Scripts run atomically, so no other process sees anything in between.

  Its keys sit in two hash tags ({prefix:breaker:<provider>} and {prefix:rl:<provider>}) and a
  Redis Cluster refuses a script across slots: on a cluster, RateLimiter.acquireProvider runs the
  two scripts in this order instead (and hands back a trial the rate limit made wait).

  KEYS[1]  the provider's breaker hash   {<prefix>:breaker:<provider>}   (see breakerRecord-1.lua)
  KEYS[2]  request log zset              {<prefix>:rl:<provider>}:rpm
  KEYS[3]  token log zset                {<prefix>:rl:<provider>}:tpm
  KEYS[4]  token sum                     {<prefix>:rl:<provider>}:tpm:sum

  ARGV[1]  breaker now, epoch ms (the breaker's clock)
  ARGV[2]  half_open_after_ms (as breakerAcquire-1.lua)
  ARGV[3]  trial_ttl_ms (as breakerAcquire-1.lua)
  ARGV[4]  rate-limit now, epoch ms (the limiter's clock)
  ARGV[5]  window, ms
  ARGV[6]  rpm
  ARGV[7]  tpm
  ARGV[8]  tokens of this request (<= tpm)
  ARGV[9]  member id, unique per call

  Returns {allowed 0|1, state, is_trial 0|1, retry_at_ms, trial_id, previous_state, rate_wait_ms}
    the first six as breakerAcquire-1.lua; rate_wait_ms > 0 when the rate limit held the call back
    (then allowed is 0, retry_at_ms 0, and the breaker is unchanged)
]]
local breaker = KEYS[1]
local now = tonumber(ARGV[1])
local halfOpenAfter = tonumber(ARGV[2])

local check = breakerCheck(breaker, now, halfOpenAfter)
if check[1] == 'refuse' then
  return {0, check[2], 0, check[3], 0, check[2], 0}
end

local wait = providerLimit(KEYS[2], KEYS[3], KEYS[4], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9])
if wait > 0 then
  return {0, check[2], 0, 0, 0, check[2], wait}
end

if check[1] == 'pass' then
  return {1, 'closed', 0, 0, 0, 'closed', 0}
end
return {1, 'half_open', 1, 0, breakerTakeTrial(breaker, now, halfOpenAfter, tonumber(ARGV[3])), check[2], 0}
