// Used by `npm test` and `npm start`: one clear line instead of a stack trace when Redis is missing.
import { checkRedis } from '../libs/redis/connection.ts';

const problem = await checkRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
if (problem) {
  console.error(problem);
  process.exit(1);
}
