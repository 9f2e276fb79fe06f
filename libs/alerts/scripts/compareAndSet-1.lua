--[[
  Sets one alert's state only if it is still the one the caller decided from, so that of two
  evaluators deciding the same transition only one applies it (and notifies).
  KEYS[1]  the alert states hash ({<prefix>:alerts}:state)
  ARGV[1]  the alert id (hash field)
  ARGV[2]  the state the caller read (its encoded JSON), or '' when the field was absent
  ARGV[3]  the new state (encoded JSON)
  Returns 1 when set, 0 when the state had changed meanwhile.
]]
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current == false then current = '' end
if current ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
