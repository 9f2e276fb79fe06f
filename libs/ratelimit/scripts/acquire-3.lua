--[[
  Sliding-log rate limit on requests and tokens together (a provider's RPM and TPM): admits and
  records a request of N tokens only if both limits allow it, else answers how long to wait.
  Runs after the prelude providerLimit.lua (the logic, shared with the admission script).

  KEYS[1] request log zset   {<prefix>:rl:<provider>}:rpm     member id -> admission time (ms)
  KEYS[2] token log zset     {<prefix>:rl:<provider>}:tpm     '<id>:<tokens>' -> admission time (ms)
  KEYS[3] token sum          {<prefix>:rl:<provider>}:tpm:sum     tokens in KEYS[2], kept so no call sums the log

  ARGV[1] now, epoch ms (from the caller)
  ARGV[2] window, ms (60000)
  ARGV[3] rpm: requests admitted in any window (t - window, t]
  ARGV[4] tpm: tokens admitted in any such window
  ARGV[5] tokens of this request (<= tpm; the caller refuses larger ones)
  ARGV[6] member id, unique per call

  Returns 0 when admitted, else the milliseconds (>= 1) until both limits would admit it.
]]
return providerLimit(KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6])
