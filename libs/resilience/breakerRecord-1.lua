--[[
  Records the outcome of one call in a provider's shared circuit breaker and applies the state
  transitions. One round trip.

  KEYS[1]  the provider's breaker hash, `{prefix}:breaker:<provider>`, fields:
             st    state: 'closed' (also when absent) | 'open' | 'half_open'
             oa    opened at (ms);  ou  open until (ms)
             cf    consecutive failures while closed
             seq   trial id sequence (kept across resets); tid  current trial id; tu  trial token until (ms)
             b<i>, s<i>, f<i>   ring slot i of the sampling window: bucket number, successes, failures

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

local h = redis.call('HMGET', key, 'st', 'tid', 'cf', 'seq')
local st = h[1] or 'closed'

local function open()
  redis.call('HSET', key, 'st', 'open', 'oa', now, 'ou', now + halfOpenAfter, 'tid', 0, 'tu', 0)
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

local bucketMs = math.max(1, math.floor(window / buckets))
local idx = math.floor(now / bucketMs)
local slot = idx % buckets
local fields = {}
for i = 0, buckets - 1 do
  fields[#fields + 1] = 'b' .. i
  fields[#fields + 1] = 's' .. i
  fields[#fields + 1] = 'f' .. i
end
local ring = redis.call('HMGET', key, unpack(fields))
local successes, failures = 0, 0
for i = 0, buckets - 1 do
  local b = tonumber(ring[i * 3 + 1])
  local s = tonumber(ring[i * 3 + 2]) or 0
  local f = tonumber(ring[i * 3 + 3]) or 0
  if i == slot then
    if b ~= idx then s, f = 0, 0 end
    if outcome == 'success' then s = s + 1 else f = f + 1 end
    redis.call('HSET', key, 'b' .. i, idx, 's' .. i, s, 'f' .. i, f)
    successes, failures = successes + s, failures + f
  elseif b and b > idx - buckets and b < idx then
    successes, failures = successes + s, failures + f
  end
end

local consecutive = 0
if outcome == 'failure' then consecutive = (tonumber(h[3]) or 0) + 1 end
redis.call('HSET', key, 'cf', consecutive)
redis.call('PEXPIRE', key, ttl)

if outcome == 'failure' then
  local total = successes + failures
  local tooMany = maxConsecutive > 0 and consecutive >= maxConsecutive
  local tooHigh = total >= minThroughput and total > 0 and failures / total >= failureRate
  if tooMany or tooHigh then
    open()
    return {'open', 'closed'}
  end
end
return {'closed', 'closed'}
