--[[
  Completes a single flight in one round trip: stores the entry (unless it is not to be kept),
  frees the lock only if the caller still holds it, and signals the followers. The entry crosses
  the network once for both the store and the signal.

  KEYS[1] the entry key ({<prefix>:cache:<cache key>}:entry)
  KEYS[2] the lock key  ({<prefix>:cache:<cache key>}:lock)
  ARGV[1] the leader's token (random per flight)
  ARGV[2] the stored string (libs/cache/stored.ts), also the signal's message
  ARGV[3] the entry key's lifetime in milliseconds; 0 signals the entry without storing it
  ARGV[4] the pub/sub channel the followers listen on ({prefix}:cache:done:<cache key>)

  Returns the number of subscribers the signal reached.
]]
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
return redis.call('PUBLISH', ARGV[4], ARGV[2])
