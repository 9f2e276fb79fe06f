--[[
  Asks a provider's shared circuit breaker whether one call may go out now. One round trip; a
  closed breaker is a single HMGET and writes nothing.

  KEYS[1]  the provider's breaker hash, `{prefix}:breaker:<provider>` (fields: see breakerRecord-1.lua)

  ARGV[1]  now, epoch milliseconds (from the caller's clock, so tests can drive it)
  ARGV[2]  half_open_after_ms: how long an open breaker stays open; the current setting can only
           shorten a stored open period, so a config reload takes effect without waiting
  ARGV[3]  trial_ttl_ms: how long the one half-open trial token lives; a worker that crashes while
           holding it cannot wedge the breaker for longer than this

  Returns {allowed 0|1, state, is_trial 0|1, retry_at_ms, trial_id, previous_state}
    state           'closed' | 'open' | 'half_open' after this call
    retry_at_ms     when a refused caller may ask again (0 when allowed)
    trial_id        the token's id, to be passed back to breakerRecord (0 when not a trial)
    previous_state  differs from state only when this call half-opened the breaker
]]
local key = KEYS[1]
local now = tonumber(ARGV[1])
local halfOpenAfter = tonumber(ARGV[2])
local trialTtl = tonumber(ARGV[3])

local h = redis.call('HMGET', key, 'st', 'ou', 'oa', 'tu')
local st = h[1] or 'closed'
if st == 'closed' then
  return {1, 'closed', 0, 0, 0, 'closed'}
end

local openUntil = tonumber(h[2]) or 0
local openedAt = tonumber(h[3])
if openedAt then
  openUntil = math.min(openUntil, openedAt + halfOpenAfter)
end
if st == 'open' and now < openUntil then
  return {0, 'open', 0, openUntil, 0, 'open'}
end

-- Half-open: exactly one trial at a time, across every process.
local trialUntil = tonumber(h[4]) or 0
if st == 'half_open' and trialUntil > now then
  return {0, 'half_open', 0, trialUntil, 0, 'half_open'}
end

-- The sequence is never reset, so a stale token holder can never match a later trial.
local id = redis.call('HINCRBY', key, 'seq', 1)
redis.call('HSET', key, 'st', 'half_open', 'tid', id, 'tu', now + trialTtl)
local keep = 2 * (trialTtl + halfOpenAfter)
if redis.call('PTTL', key) < keep then
  redis.call('PEXPIRE', key, keep)
end
return {1, 'half_open', 1, 0, id, st}
