/**
 * A store writer thread entry for tests: the real one, which also ends the thread at once when a
 * message carries a record with id `crash-thread` (whether that record was committed is then unknown).
 */
import { parentPort } from 'node:worker_threads';
import type { WriterThreadMessage } from '../../libs/store/writerThread.ts';
import '../../libs/store/writerThreadEntry.ts';

parentPort!.on('message', (message: WriterThreadMessage) => {
  if (message.kind === 'save' && message.records.some((r) => r.id === 'crash-thread')) process.exit(3);
});
