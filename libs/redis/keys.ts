/**
 * Where keys live on a Redis Cluster. Every key carries a hash tag (the braces), so the keys that
 * one Lua script, MULTI or pipeline touches together sit in one slot. The queue prefix `{bull}`
 * tags BullMQ's keys and every family that must stay atomic with them or with each other; the
 * families that need no atomicity with anything else carry their own, narrower tag, so a cluster
 * spreads them over its masters. The layout (README, "Redis Cluster"):
 *
 * | family | keys | tag |
 * | --- | --- | --- |
 * | queues, idempotency claims, webhook state, category quota, waiting reasons, budget-deferred jobs | `{bull}:...` | `{bull}` (one slot: the intake-undo script reads a job and its claim together) |
 * | budget windows, holds, markers, budget events | `{bull}:budget:...`, `{bull}:events:budget` | `{bull}` (kept where existing spend lives) |
 * | rate limits | `{bull:rl:<provider>}:rpm` ..., `{bull:rl:client:<id>}` ... | one per provider and per client |
 * | circuit breakers | `{bull:breaker:<provider>}` | one per provider |
 * | response cache | `{bull:cache:<key>}:entry`, `{bull:cache:<key>}:lock` | one per entry |
 */

/**
 * The tag of a family inside the braced queue prefix `prefix`: `familyTag('{bull}', 'rl:openai')`
 * is `{bull:rl:openai}`. Keys built on it share one slot with each other and none with the queue.
 */
export function familyTag(prefix: string, family: string): string {
  if (!prefix.startsWith('{') || !prefix.endsWith('}')) throw new Error(`a queue prefix is braced ('{bull}'), got '${prefix}'`);
  return `${prefix.slice(0, -1)}:${family}}`;
}

/** SCAN patterns that match every key under the braced queue prefix `prefix`, in its own tag or a family's. */
export function keyPatterns(prefix: string): string[] {
  familyTag(prefix, '');
  return [`${prefix}:*`, `${prefix.slice(0, -1)}:*`];
}
