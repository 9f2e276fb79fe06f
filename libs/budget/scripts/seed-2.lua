--[[
  Seeds the month and day windows with the spend the result store records, once per window: a
  window hash Redis lost (a restart without persistence) would otherwise start again at zero and
  admit the month's budget a second time. reserve-5.lua refuses to admit against a window until it
  carries the `seeded` mark this script sets. A window already seeded is left as it is (its own
  settles have counted since); one that holds spend but no mark (kept from before the mark
  existed) keeps the larger of its spend and the store's, so seeding never lowers spend.

  KEYS[1] month window hash  <prefix>:budget:month:<YYYY-MM>
  KEYS[2] day window hash    <prefix>:budget:day:<YYYY-MM-DD>

  ARGV[1] the month's spend in the store, integer micro-dollars
  ARGV[2] the day's spend in the store, integer micro-dollars
  ARGV[3] epoch ms at which the month window keys may expire
  ARGV[4] epoch ms at which the day window keys may expire
  ARGV[5] now as an ISO-8601 string, kept as the `seeded` mark (when the window was rebuilt)

  Returns {monthSpent, daySpent, seededNow}: spend after, and how many windows this call seeded.
]]
local function seed(key, spent_in_store, expire_at)
  if redis.call('HEXISTS', key, 'seeded') == 1 then
    return tonumber(redis.call('HGET', key, 'spent') or 0), 0
  end
  local spent = tonumber(redis.call('HGET', key, 'spent') or 0)
  local target = tonumber(spent_in_store)
  if target > spent then
    spent = redis.call('HINCRBY', key, 'spent', target - spent)
  end
  redis.call('HSET', key, 'seeded', ARGV[5])
  redis.call('PEXPIREAT', key, expire_at)
  return spent, 1
end

local ms, mnew = seed(KEYS[1], ARGV[1], ARGV[3])
local ds, dnew = seed(KEYS[2], ARGV[2], ARGV[4])
return {ms, ds, mnew + dnew}
