--[[
  Records the outcome of one call in a provider's shared circuit breaker and applies the state
  transitions. One round trip.

  KEYS[1]  the provider's breaker hash, `{prefix}:breaker:<provider>`, fields:
             st    state: 'closed' (also when absent) | 'open' | 'half_open'
             oa    opened at (ms);  ou  open until (ms)
             cf    consecutive failures while closed
             seq   trial id sequence (kept across resets); tid  current trial id; tu  trial token until (ms)
             b<i>, s<i>, f<i>   ring slot i of the sampling window: bucket number, successes, failures
             xp    the expiry last set, caller's epoch ms (the key's TTL is set to two TTLs and
                   refreshed only once one TTL is left, not on every call)

  ARGV[1]  outcome: 'success' | 'failure' | 'ignore' (ignore changes no counter; an ignored trial
           only hands its token back so that another process may try at once)
  ARGV[2]  now, epoch milliseconds (caller's clock)
  ARGV[3]  trial_id from breakerAcquire, 0 when the call was not the half-open trial
  ARGV[4]  consecutive_failures that open the breaker (0 disables the rule)
  ARGV[5]  failure_rate (0-1) over the sampling window that opens the breaker
  ARGV[6]  sampling_window_ms
  ARGV[7]  minimum_throughput: calls needed in the window before the ratio counts
  ARGV[8]  half_open_after_ms
  ARGV[9]  number of time buckets in the sampling window (e.g. 10)

  Returns {state, previous_state}; they differ when this call made a transition.

  Results of calls that are not the current trial are ignored while the breaker is open or half
  open: they were started before it opened and say nothing about the provider's health now.

  Cost: every paid call records its success here, so that path reads one HMGET (the state and
  this call's ring slot) and writes one HSET; the whole ring is read only for a failure, and the
  key's life is set to two TTLs and refreshed once less than one is left, so after any call the
  key lives at least one TTL (three sampling windows or open periods), as when every call
  refreshed it: failures spaced up to a TTL apart still add up to consecutive_failures.
]]
local key = KEYS[1]
local outcome = ARGV[1]
local now = tonumber(ARGV[2])
local trialId = ARGV[3]
local maxConsecutive = tonumber(ARGV[4])
local failureRate = tonumber(ARGV[5])
local window = tonumber(ARGV[6])
local minThroughput = tonumber(ARGV[7])
local halfOpenAfter = tonumber(ARGV[8])
local buckets = tonumber(ARGV[9])

-- A few windows (or open periods) of idleness and the key goes away by itself.
local ttl = 3 * math.max(window, halfOpenAfter)

local bucketMs = math.max(1, math.floor(window / buckets))
local idx = math.floor(now / bucketMs)
local slot = idx % buckets
local h = redis.call('HMGET', key, 'st', 'tid', 'cf', 'seq', 'xp', 'b' .. slot, 's' .. slot, 'f' .. slot)
local st = h[1] or 'closed'

local function open()
  redis.call('HSET', key, 'st', 'open', 'oa', now, 'ou', now + halfOpenAfter, 'tid', 0, 'tu', 0, 'xp', now + ttl)
  redis.call('PEXPIRE', key, ttl)
end

if trialId ~= '0' and st == 'half_open' and trialId == h[2] then
  if outcome == 'success' then
    -- Closed with every counter reset; only the trial sequence survives.
    redis.call('DEL', key)
    redis.call('HSET', key, 'seq', h[4] or 0)
    redis.call('PEXPIRE', key, ttl)
    return {'closed', 'half_open'}
  elseif outcome == 'failure' then
    open()
    return {'open', 'half_open'}
  end
  redis.call('HSET', key, 'tu', 0)
  return {'half_open', 'half_open'}
end

if outcome == 'ignore' or st ~= 'closed' then
  return {st, st}
end

-- This call's slot: a slot of an older bucket starts again from zero.
local s, f = tonumber(h[7]) or 0, tonumber(h[8]) or 0
if tonumber(h[6]) ~= idx then s, f = 0, 0 end
if outcome == 'success' then s = s + 1 else f = f + 1 end
local consecutive = 0
if outcome == 'failure' then consecutive = (tonumber(h[3]) or 0) + 1 end
local fields = {'b' .. slot, idx, 's' .. slot, s, 'f' .. slot, f, 'cf', consecutive}
local expiresAt = tonumber(h[5])
local refresh = not expiresAt or expiresAt - now < ttl
if refresh then
  fields[#fields + 1] = 'xp'
  fields[#fields + 1] = now + 2 * ttl
end
redis.call('HSET', key, unpack(fields))
if refresh then redis.call('PEXPIRE', key, 2 * ttl) end

if outcome == 'failure' then
  -- The other slots still inside the sampling window count with this one.
  local others = {}
  for i = 0, buckets - 1 do
    if i ~= slot then
      others[#others + 1] = 'b' .. i
      others[#others + 1] = 's' .. i
      others[#others + 1] = 'f' .. i
    end
  end
  local successes, failures = s, f
  if #others > 0 then
    local ring = redis.call('HMGET', key, unpack(others))
    for j = 1, #ring, 3 do
      local b = tonumber(ring[j])
      if b and b > idx - buckets and b < idx then
        successes = successes + (tonumber(ring[j + 1]) or 0)
        failures = failures + (tonumber(ring[j + 2]) or 0)
      end
    end
  end
  local total = successes + failures
  local tooMany = maxConsecutive > 0 and consecutive >= maxConsecutive
  local tooHigh = total >= minThroughput and total > 0 and failures / total >= failureRate
  if tooMany or tooHigh then
    open()
    return {'open', 'closed'}
  end
end
return {'closed', 'closed'}
