--[[
  Releases a single-flight lock only if the caller still holds it, so a leader whose lock expired
  (and was taken over) cannot delete its successor's lock.

  KEYS[1] the lock key ({<prefix>:cache:<cache key>}:lock)
  ARGV[1] the holder's token (random per flight)

  Returns 1 when the lock was released, 0 when another token (or none) held it.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
