// Used by `npm test` and `npm start`: one clear line instead of a stack trace when Redis is missing,
// with the password of REDIS_URL masked. With REDIS_CLUSTER_NODES it checks the cluster's nodes.
import { exitUnlessRedis } from '../libs/redis/connection.ts';
import { scrubConsoleOutput } from '../libs/telemetry/logger.ts';

scrubConsoleOutput();
await exitUnlessRedis();
