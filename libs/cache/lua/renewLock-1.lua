--[[
  Extends a single-flight lock only if the caller still holds it, so a leader keeps its lock while
  its computation runs, and a leader whose lock expired (and was taken over) cannot extend its
  successor's.

  KEYS[1] the lock key ({<prefix>:cache:<cache key>}:lock)
  ARGV[1] the holder's token (random per flight)
  ARGV[2] the new TTL in milliseconds, counted from now

  Returns 1 when the lock was extended, 0 when another token (or none) held it.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
