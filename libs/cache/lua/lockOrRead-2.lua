--[[
  One look at a cache key for single flight, in one round trip: answer a fresh entry if there is
  one, else take the lock (this caller leads the computation), else say how long the current
  holder keeps the lock (this caller follows).

  KEYS[1] the entry key ({<prefix>:cache:<cache key>}:entry), a JSON string {"freshUntil": ms, ...}
  KEYS[2] the lock key  ({<prefix>:cache:<cache key>}:lock)
  ARGV[1] token: random per flight, the lock's value
  ARGV[2] lock TTL in milliseconds
  ARGV[3] the caller's clock in Unix milliseconds, compared with the entry's freshUntil

  Returns {1, entry} when the entry is fresh; {2} when the lock was taken; {3, pttl} when another
  holds the lock for pttl more milliseconds (-1 if it has no TTL). A stale entry counts as absent.

  freshUntil is read from the string's head (the writer puts it first, stored.ts), so deciding
  freshness decodes none of the answer; a string of another layout gets a full decode.
]]
local raw = redis.call('GET', KEYS[1])
if raw then
  local freshUntil = tonumber(string.match(raw, '^{"freshUntil":(%-?%d+),'))
  if not freshUntil then
    local ok, decoded = pcall(cjson.decode, raw)
    if ok and type(decoded) == 'table' then freshUntil = tonumber(decoded['freshUntil']) end
  end
  if freshUntil and freshUntil > tonumber(ARGV[3]) then
    return {1, raw}
  end
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {2}
end
return {3, redis.call('PTTL', KEYS[2])}
