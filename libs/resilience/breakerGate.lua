--[[
  Prelude of breakerAcquire-1.lua and admit-4.lua (put before each by sharedBreaker.ts): the
  breaker's half of letting one call out, in two steps, a read-only check and the taking of the
  half-open trial, so that a script can run another check (the provider's rate limit) between
  them and take nothing at all when that check says wait. Fields of the breaker hash: see
  breakerRecord-1.lua.
]]

-- Reads the breaker at `now` (ms); writes nothing. Answers {verdict, state, retry_at_ms}:
--   'pass'    closed: the call may go, nothing to take
--   'refuse'  open, or a half-open trial is out; retry_at_ms is when asking again may pass
--   'trial'   the open period is over and no trial is out: the call may go as the trial, once
--             breakerTakeTrial has taken the token; state is the stored state (open | half_open)
-- half_open_after: the current setting can only shorten a stored open period, so a config
-- reload takes effect without waiting.
local function breakerCheck(key, now, halfOpenAfter)
  local h = redis.call('HMGET', key, 'st', 'ou', 'oa', 'tu')
  local st = h[1] or 'closed'
  if st == 'closed' then
    return {'pass', 'closed', 0}
  end
  local openUntil = tonumber(h[2]) or 0
  local openedAt = tonumber(h[3])
  if openedAt then
    openUntil = math.min(openUntil, openedAt + halfOpenAfter)
  end
  if st == 'open' and now < openUntil then
    return {'refuse', 'open', openUntil}
  end
  -- Half-open: exactly one trial at a time, across every process.
  local trialUntil = tonumber(h[4]) or 0
  if st == 'half_open' and trialUntil > now then
    return {'refuse', 'half_open', trialUntil}
  end
  return {'trial', st, 0}
end

-- Takes the half-open trial token for trial_ttl ms (a worker that crashes holding it cannot
-- wedge the breaker for longer); answers the token's id. The sequence is never reset, so a
-- stale token holder can never match a later trial.
local function breakerTakeTrial(key, now, halfOpenAfter, trialTtl)
  local id = redis.call('HINCRBY', key, 'seq', 1)
  redis.call('HSET', key, 'st', 'half_open', 'tid', id, 'tu', now + trialTtl)
  local keep = 2 * (trialTtl + halfOpenAfter)
  if redis.call('PTTL', key) < keep then
    redis.call('PEXPIRE', key, keep)
  end
  return id
end
