--[[
  Asks a provider's shared circuit breaker whether one call may go out now. One round trip; a
  closed breaker is a single HMGET and writes nothing. Runs after the prelude breakerGate.lua.

  KEYS[1]  the provider's breaker hash, `{prefix:breaker:<provider>}` (fields: see breakerRecord-1.lua)

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

local check = breakerCheck(key, now, halfOpenAfter)
if check[1] == 'pass' then
  return {1, 'closed', 0, 0, 0, 'closed'}
elseif check[1] == 'refuse' then
  return {0, check[2], 0, check[3], 0, check[2]}
end
return {1, 'half_open', 1, 0, breakerTakeTrial(key, now, halfOpenAfter, tonumber(ARGV[3])), check[2]}
