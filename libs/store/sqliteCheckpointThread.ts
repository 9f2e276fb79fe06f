/**
 * Entry of the checkpoint thread a store writer thread starts beside itself (writerThreadEntry.ts):
 * checkpoints the SQLite file `workerData.path` every `workerData.intervalMs` until it is sent `close`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startCheckpoints } from './sqliteCheckpoint.ts';

const { path, intervalMs } = workerData as { path: string; intervalMs?: number };
const checkpoints = startCheckpoints(path, intervalMs === undefined ? {} : { intervalMs });
parentPort!.on('message', (message: { kind: string }) => {
  if (message.kind !== 'close') return;
  checkpoints.stop();
  parentPort!.close();
});
