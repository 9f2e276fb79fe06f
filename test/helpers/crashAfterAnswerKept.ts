/**
 * Preloaded into a worker by crash tests (`NODE_OPTIONS=--import <this file>`, see
 * CRASH_AFTER_ANSWER_KEPT_ENV): the process SIGKILLs itself right after a job's paid answer is kept
 * in Redis, before it is settled or stored, the worst moment for a crash. It patches BullMQ's
 * Job.updateData, so production code carries no test hook.
 */
import { Job } from 'bullmq';

const updateData = Job.prototype.updateData;
Job.prototype.updateData = async function (this: Job, data: unknown): Promise<void> {
  const hadAnswer = (this.data as { answer?: unknown } | undefined)?.answer !== undefined;
  await updateData.call(this, data);
  if (!hadAnswer && (data as { answer?: unknown } | null)?.answer !== undefined) process.kill(process.pid, 'SIGKILL');
};
