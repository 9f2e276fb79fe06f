// Used by `npm test` and `npm start`: one clear line instead of a stack trace when Redis is missing,
// with the password of REDIS_URL masked.
import { exitUnlessRedis } from '../libs/redis/connection.ts';
import { scrubConsoleOutput } from '../libs/telemetry/logger.ts';

scrubConsoleOutput();
await exitUnlessRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
