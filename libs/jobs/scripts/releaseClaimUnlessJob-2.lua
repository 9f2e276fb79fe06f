--[[
  Forgets an Idempotency-Key claim unless its job exists: run after a submission whose claim or
  enqueue went unanswered (and after removing the job), so the client's retry with the same key
  enqueues it again, while a job that did get queued and is running keeps its key.

  KEYS[1] the job's BullMQ hash, e.g. `{bull}:llm-jobs:<job id>`
  KEYS[2] the claim, `<prefix>:idem:<job id>`
  Returns 1 when the job exists (the claim is kept), 0 when it does not (the claim is deleted).
]]
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 1
end
redis.call('DEL', KEYS[2])
return 0
