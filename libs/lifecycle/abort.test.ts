import { describe, expect, test } from 'vitest';
import { untilAborted } from './abort.ts';

describe('untilAborted', () => {
  test('without a signal, or one never aborted: the work decides', async () => {
    await expect(untilAborted(Promise.resolve(1), undefined)).resolves.toBe(1);
    await expect(untilAborted(Promise.resolve(2), new AbortController().signal)).resolves.toBe(2);
    await expect(untilAborted(Promise.reject(new Error('no')), new AbortController().signal)).rejects.toThrow('no');
  });

  test('an abort during the wait rejects at once with its reason', async () => {
    const ctrl = new AbortController();
    const waiting = untilAborted(new Promise(() => {}), ctrl.signal);
    ctrl.abort(new Error('shutting down'));
    await expect(waiting).rejects.toThrow('shutting down');
  });

  test('a signal aborted before: rejects without waiting', async () => {
    await expect(untilAborted(new Promise(() => {}), AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
  });
});
