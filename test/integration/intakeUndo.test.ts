/**
 * A paused Redis runs the commands it was sent when it resumes, even those whose answer already
 * timed out on our side: an enqueue answered 503 would become a job later. IntakeUndo sends the
 * removal behind it on the same connection, so the job and its Idempotency-Key claim are gone
 * once Redis resumes. Runs on a private redis-server (the test pauses it).
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRedis } from '../../libs/redis/connection.ts';
import { IntakeUndo } from '../../libs/jobs/intakeUndo.ts';
import { idempotencyClaimKey } from '../../libs/jobs/idempotency.ts';
import { startPrivateRedis, type PrivateRedis } from '../helpers/privateRedis.ts';

const PAUSE_MS = 1500;
let redis: PrivateRedis;

beforeAll(async () => {
  redis = await startPrivateRedis();
}, 30_000);

afterAll(async () => {
  await redis?.cleanup();
});

/** A fail-fast queue on the private Redis; a claim set for `jobId`; Redis then paused. */
async function pausedIntake() {
  const connection = createRedis(redis.url, 'undo-test', { commandTimeoutMs: 300 });
  const prefix = `{undo-${randomUUID().slice(0, 8)}}`;
  const queue = new Queue('llm-jobs', { connection, prefix });
  await queue.waitUntilReady();
  const jobId = randomUUID();
  const claimKey = idempotencyClaimKey(prefix, jobId);
  await connection.set(claimKey, 'fingerprint');
  const admin = createRedis(redis.url, 'undo-test-admin');
  await admin.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL');
  admin.disconnect();
  const add = queue.add('llm', { n: 1 }, { jobId });
  await expect(add).rejects.toThrow('Command timed out');
  const close = async () => {
    await queue.close();
    connection.disconnect();
  };
  return { connection, queue, jobId, claimKey, close };
}

describe('IntakeUndo', () => {
  test('without it, an enqueue that timed out during a pause becomes a job when Redis resumes', async () => {
    const { queue, jobId, claimKey, connection, close } = await pausedIntake();
    await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    const deadline = Date.now() + 10_000;
    while (!(await queue.getJob(jobId).catch(() => undefined)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await queue.getJob(jobId))?.id).toBe(jobId);
    expect(await connection.exists(claimKey)).toBe(1);
    await close();
  }, 30_000);

  test('with it, the job and its claim are gone once Redis resumes', async () => {
    const { queue, jobId, claimKey, connection, close } = await pausedIntake();
    const outcome = await new IntakeUndo(connection, { retryMs: 100 }).start(queue, jobId, { added: true, claimKey });
    expect(['removed', 'not_queued']).toContain(outcome);
    expect(await queue.getJob(jobId)).toBeUndefined();
    expect(await connection.exists(claimKey)).toBe(0);
    expect(await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active')).toEqual({ waiting: 0, prioritized: 0, delayed: 0, active: 0 });
    await close();
  }, 30_000);

  test('a claim that timed out is released once Redis resumes', async () => {
    const { queue, connection, close } = await pausedIntake();
    const prefix = queue.opts.prefix!;
    const otherId = randomUUID();
    const claimKey = idempotencyClaimKey(prefix, otherId);
    // Still paused: the claim is sent, times out, and would be written on resume.
    const claim = connection.set(claimKey, 'fp', 'PX', 60_000, 'NX');
    await expect(claim).rejects.toThrow('Command timed out');
    expect(await new IntakeUndo(connection, { retryMs: 100 }).start(queue, otherId, { added: false, claimKey })).toBe('not_queued');
    expect(await connection.exists(claimKey)).toBe(0);
    await close();
  }, 30_000);

  test('a job a worker already runs is kept, and so is its claim', async () => {
    const connection = createRedis(redis.url, 'undo-test-kept', { commandTimeoutMs: 1000 });
    const prefix = `{undo-${randomUUID().slice(0, 8)}}`;
    const queue = new Queue('llm-jobs', { connection, prefix });
    await queue.waitUntilReady();
    const jobId = randomUUID();
    const claimKey = idempotencyClaimKey(prefix, jobId);
    await connection.set(claimKey, 'fingerprint');
    const job = await queue.add('llm', { n: 1 }, { jobId });
    // A lock, as a worker holds while it runs the job: BullMQ's removal refuses a locked job.
    await connection.set(`${prefix}:llm-jobs:${jobId}:lock`, 'worker-token', 'PX', 30_000);
    expect(await new IntakeUndo(connection).start(queue, job.id!, { added: true, claimKey })).toBe('kept_running');
    expect(await connection.exists(claimKey)).toBe(1);
    await queue.obliterate({ force: true });
    await queue.close();
    connection.disconnect();
  }, 30_000);
});
