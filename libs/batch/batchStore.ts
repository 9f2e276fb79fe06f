/**
 * The batch lane's state in Redis, all under the queue's hash tag (one cluster slot):
 * - `lane:tickets` (hash, job id → ticket) and `lane:pending:<group>` (sorted set of job ids by the
 *   time they joined): jobs waiting for their provider's next batch; `lane:groups` lists the groups.
 * - `lane:batch:<id>` (hash): a batch we made: provider, model, state (`claimed` → `sending` →
 *   `sent` → `collected`), its job ids, the provider's batch id. A job may leave a `claimed` batch
 *   (nothing of it went out yet), never a `sending` one (it may be at the provider already). `lane:open` lists those not collected.
 * - `lane:batch:<id>:tickets` and `lane:batch:<id>:results` (hashes by job id): its items' tickets
 *   and, once it ended, their outcomes; `lane:item:<job id>` names the batch a job was put in.
 * Claiming moves items from pending into a batch in one script, so no job is in two batches.
 */
import type { RedisClient } from '../redis/client.ts';
import type { BatchItemRequest } from '../providers/batch/types.ts';
import type { ItemOutcome } from './lane.ts';

/** Seconds a collected batch's keys (and a job's pointer to it) are kept, for the jobs to read their outcome. @defaultValue 7 days */
export const COLLECTED_TTL_S = 7 * 24 * 3600;

/** What the lane keeps about a job waiting for, or in, a batch. */
export interface BatchTicket {
  jobId: string;
  /** The budget hold reserved at the batch worst case; settled (or released) when the batch ends. */
  holdId: string;
  provider: string;
  model: string;
  request: BatchItemRequest['request'];
  /** Epoch ms the job joined the lane; its batch price is the one in force that day. */
  enqueuedMs: number;
}

/** A group's line: how many jobs wait, and since when (epoch ms of the oldest; undefined when none). */
export interface GroupLine {
  group: string;
  count: number;
  oldestMs: number | undefined;
}

/** A batch we made, as stored. */
export interface BatchRecord {
  id: string;
  provider: string;
  model: string;
  state: 'claimed' | 'sending' | 'sent' | 'collected';
  jobIds: string[];
  createdMs: number;
  /** Epoch ms the batch was frozen to be sent; null before. */
  sendingMs: number | null;
  providerBatchId: string | null;
}

const CLAIM_LUA = `
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #ids == 0 then return {} end
local out = {}
for i, id in ipairs(ids) do
  local t = redis.call('HGET', KEYS[2], id)
  if t then
    redis.call('HSET', KEYS[5], id, t)
    redis.call('SET', ARGV[5] .. id, ARGV[2], 'EX', ARGV[6])
    out[#out + 1] = t
  end
  redis.call('HDEL', KEYS[2], id)
  redis.call('ZREM', KEYS[1], id)
end
if #out == 0 then return {} end
local kept = {}
for i, t in ipairs(out) do kept[i] = cjson.decode(t)['jobId'] end
redis.call('HSET', KEYS[3], 'provider', ARGV[3], 'model', ARGV[4], 'state', 'claimed', 'jobs', cjson.encode(kept), 'created_ms', ARGV[7])
redis.call('SADD', KEYS[4], ARGV[2])
return out
`;

// Puts a job in line unless it is in line already or was put in a batch under this hold: 1 when it
// joined now. (A pointer to a batch of an earlier job of the same id, under another hold, is stale.)
const ENQUEUE_LUA = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local batch = redis.call('GET', KEYS[3])
if batch then
  local t = redis.call('HGET', ARGV[5] .. batch .. ':tickets', ARGV[1])
  if t and cjson.decode(t)['holdId'] == ARGV[6] then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], 'NX', ARGV[3], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[4])
return 1
`;

// Freezes a claimed batch before it goes out: 1 when this call froze it (and may send it).
const MARK_SENDING_LUA = `
if redis.call('HGET', KEYS[1], 'state') ~= 'claimed' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'sending', 'sending_ms', ARGV[1])
return 1
`;

// Takes a job out of the lane if its item has not gone to a provider yet: 1 when withdrawn.
const WITHDRAW_LUA = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 1
end
local batch = redis.call('GET', KEYS[3])
if not batch then return 0 end
local key = ARGV[2] .. batch
if redis.call('HGET', key, 'state') ~= 'claimed' then return 0 end
local jobs = cjson.decode(redis.call('HGET', key, 'jobs'))
local kept = {}
for _, id in ipairs(jobs) do if id ~= ARGV[1] then kept[#kept + 1] = id end end
if #kept == 0 then redis.call('HSET', key, 'jobs', '[]') else redis.call('HSET', key, 'jobs', cjson.encode(kept)) end
redis.call('HDEL', key .. ':tickets', ARGV[1])
redis.call('DEL', KEYS[3])
return 1
`;

/** The lane's Redis keys for one queue prefix (braced, e.g. `{bull}`). */
export class BatchStore {
  readonly #redis: RedisClient;
  readonly #p: string;

  constructor(redis: RedisClient, prefix: string) {
    this.#redis = redis;
    this.#p = `${prefix}:lane`;
  }

  #pending(group: string): string {
    return `${this.#p}:pending:${group}`;
  }
  #batch(id: string): string {
    return `${this.#p}:batch:${id}`;
  }

  /**
   * Puts a job in line for its provider's next batch; a no-op when it is in line already (it keeps
   * its first place and ticket) or was put in a batch (a job is never in two). True when it joined now.
   */
  async enqueue(ticket: BatchTicket): Promise<boolean> {
    const group = groupOf(ticket.provider, ticket.model);
    const keys = [`${this.#p}:tickets`, this.#pending(group), `${this.#p}:item:${ticket.jobId}`, `${this.#p}:groups`];
    const args = [ticket.jobId, JSON.stringify(ticket), String(ticket.enqueuedMs), group, `${this.#p}:batch:`, ticket.holdId];
    return (await this.#redis.eval(ENQUEUE_LUA, keys.length, ...keys, ...args)) === 1;
  }

  /** Every group with jobs in line, with how many and since when (epoch ms of the oldest). */
  async pendingGroups(): Promise<GroupLine[]> {
    const groups = await this.#redis.smembers(`${this.#p}:groups`);
    return Promise.all(groups.map((group) => this.line(group)));
  }

  /** How many jobs of `group` are in line, and since when. */
  async line(group: string): Promise<GroupLine> {
    const [count, oldest] = await Promise.all([this.#redis.zcard(this.#pending(group)), this.#redis.zrange(this.#pending(group), '0', '0', 'WITHSCORES')]);
    return { group, count, oldestMs: oldest[1] === undefined ? undefined : Number(oldest[1]) };
  }

  /** Moves up to `max` jobs of `group` into a new batch `batchId` (state `claimed`); answers their tickets. */
  async claim(group: string, batchId: string, max: number, nowMs: number): Promise<BatchTicket[]> {
    const { provider, model } = parseGroup(group);
    const keys = [this.#pending(group), `${this.#p}:tickets`, this.#batch(batchId), `${this.#p}:open`, `${this.#batch(batchId)}:tickets`];
    const args = [String(max), batchId, provider, model, `${this.#p}:item:`, String(COLLECTED_TTL_S), String(nowMs)];
    const raw = (await this.#redis.eval(CLAIM_LUA, keys.length, ...keys, ...args)) as string[];
    return raw.map((t) => JSON.parse(t) as BatchTicket);
  }

  /** Takes a job out of the lane if its item was not sent yet; true when it was (its hold is then the caller's to release). */
  async withdraw(jobId: string, group: string): Promise<boolean> {
    const keys = [`${this.#p}:tickets`, this.#pending(group), `${this.#p}:item:${jobId}`];
    return (await this.#redis.eval(WITHDRAW_LUA, keys.length, ...keys, jobId, `${this.#p}:batch:`)) === 1;
  }

  /** The batches not collected yet. */
  async openBatches(): Promise<BatchRecord[]> {
    const ids = await this.#redis.smembers(`${this.#p}:open`);
    const records = await Promise.all(ids.map((id) => this.batch(id)));
    return records.filter((r): r is BatchRecord => r !== null);
  }

  /** A batch by our id, or null. */
  async batch(id: string): Promise<BatchRecord | null> {
    const h = await this.#redis.hgetall(this.#batch(id));
    if (!h['state']) return null;
    return {
      id,
      provider: h['provider']!,
      model: h['model']!,
      state: h['state'] as BatchRecord['state'],
      jobIds: JSON.parse(h['jobs'] ?? '[]') as string[],
      createdMs: Number(h['created_ms']),
      sendingMs: h['sending_ms'] ? Number(h['sending_ms']) : null,
      providerBatchId: h['provider_batch_id'] || null,
    };
  }

  /** The tickets of a batch's items, by job id. */
  async tickets(batchId: string): Promise<Map<string, BatchTicket>> {
    const all = await this.#redis.hgetall(`${this.#batch(batchId)}:tickets`);
    return new Map(Object.entries(all).map(([id, t]) => [id, JSON.parse(t) as BatchTicket]));
  }

  /**
   * Freezes a claimed batch before it goes to the provider (no job leaves it after this). True only
   * for the one caller that froze it: that caller, and no other, sends it now.
   */
  async markSending(id: string, nowMs: number): Promise<boolean> {
    return (await this.#redis.eval(MARK_SENDING_LUA, 1, this.#batch(id), String(nowMs))) === 1;
  }

  /** The outcomes kept for a batch's items so far, by job id. */
  async outcomes(id: string): Promise<Map<string, ItemOutcome>> {
    const all = await this.#redis.hgetall(`${this.#batch(id)}:results`);
    return new Map(Object.entries(all).map(([jobId, o]) => [jobId, JSON.parse(o) as ItemOutcome]));
  }

  /** Records that the provider holds batch `id` as `providerBatchId`. */
  async markSent(id: string, providerBatchId: string): Promise<void> {
    await this.#redis.hset(this.#batch(id), 'state', 'sent', 'provider_batch_id', providerBatchId);
  }

  /** Keeps every item's outcome (before any hold is settled or job woken, so a crash after it loses none). */
  async saveOutcomes(id: string, outcomes: Map<string, ItemOutcome>): Promise<void> {
    if (outcomes.size === 0) return;
    await this.#redis.hset(`${this.#batch(id)}:results`, Object.fromEntries([...outcomes].map(([jobId, o]) => [jobId, JSON.stringify(o)])));
  }

  /** Closes a batch whose items are all settled and woken: its keys live on COLLECTED_TTL_S for the jobs to read. */
  async markCollected(id: string): Promise<void> {
    const key = this.#batch(id);
    await this.#redis.multi().hset(key, 'state', 'collected').srem(`${this.#p}:open`, id).expire(key, COLLECTED_TTL_S).expire(`${key}:results`, COLLECTED_TTL_S).expire(`${key}:tickets`, COLLECTED_TTL_S).exec();
  }

  /**
   * The batch a job was put in under hold `holdId`, and its item's outcome once the batch ended;
   * none when its pointer names a batch of an earlier job of the same id (another hold).
   */
  async itemOf(jobId: string, holdId: string): Promise<{ batchId: string | null; outcome: ItemOutcome | undefined }> {
    const batchId = await this.#redis.get(`${this.#p}:item:${jobId}`);
    if (!batchId) return { batchId: null, outcome: undefined };
    const [ticket, raw] = await Promise.all([this.#redis.hget(`${this.#batch(batchId)}:tickets`, jobId), this.#redis.hget(`${this.#batch(batchId)}:results`, jobId)]);
    if (!ticket || (JSON.parse(ticket) as BatchTicket).holdId !== holdId) return { batchId: null, outcome: undefined };
    return { batchId, outcome: raw ? (JSON.parse(raw) as ItemOutcome) : undefined };
  }

  /** Forgets groups with nobody in line (a group is added again by its next job). */
  async pruneGroup(group: string): Promise<void> {
    // Only when still empty: a job may have joined since the caller looked.
    await this.#redis.eval(`if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end return 0`, 2, this.#pending(group), `${this.#p}:groups`, group);
  }
}

/** A group's name: the provider and model its items go to. */
export function groupOf(provider: string, model: string): string {
  return `${provider}|${model}`;
}

function parseGroup(group: string): { provider: string; model: string } {
  const bar = group.indexOf('|');
  return { provider: group.slice(0, bar), model: group.slice(bar + 1) };
}
