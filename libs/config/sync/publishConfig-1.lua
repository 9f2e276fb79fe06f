--[[
  Publishes a config version: the newest config document and its number, in one round trip.
  Publishing the content already at the head is a no-op that answers the head's number, so every
  process that saw the same edit (one CONFIG_DIR shared by an API and its workers) publishes it once.
  The number never goes back, even when Redis lost the key: the caller's running number is a floor.

  KEYS[1]  the config document hash, `{prefix:config}:current`, fields:
             n      publication number (integer, increasing)
             h      content hash of the files
             f      the files: JSON object, path relative to CONFIG_DIR -> text
             src    who published: `<process>@<host>:<pid> (<trigger>)`
             at     when, epoch milliseconds (caller's clock)

  ARGV[1]  content hash
  ARGV[2]  files, as JSON
  ARGV[3]  floor: the new number is above max(stored n, floor)
  ARGV[4]  source
  ARGV[5]  now, epoch milliseconds

  Returns  { number, 1 } when published, { number, 0 } when the head already held this content.
]]
local head = redis.call('HMGET', KEYS[1], 'n', 'h')
local n = tonumber(head[1]) or 0
local floor = tonumber(ARGV[3]) or 0
if head[2] == ARGV[1] and n >= floor then
  return { n, 0 }
end
if floor > n then n = floor end
n = n + 1
redis.call('HSET', KEYS[1], 'n', n, 'h', ARGV[1], 'f', ARGV[2], 'src', ARGV[4], 'at', ARGV[5])
return { n, 1 }
