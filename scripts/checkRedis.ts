// Used by `npm test` and `npm start`: one clear line instead of a stack trace when Redis is missing.
import { exitUnlessRedis } from '../libs/redis/connection.ts';

await exitUnlessRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
