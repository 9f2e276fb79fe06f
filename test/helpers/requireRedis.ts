import { checkRedis } from '../../libs/redis/connection.ts';

/** Vitest global setup: stop at once, in one line, when the suites that need Redis cannot have it. */
export default async function requireRedis(): Promise<void> {
  const problem = await checkRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  if (problem) throw new Error(problem);
}
