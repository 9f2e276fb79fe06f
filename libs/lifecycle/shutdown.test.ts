import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { MAX_CLEANUP_MS, onShutdown, shutdownDeadlines, type ShutdownProcess } from './shutdown.ts';

const noop = () => {};
const log = { info: noop, warn: noop, error: noop } as unknown as Logger;

/** A process stand-in: signals are emitted by the test, exit codes recorded. */
function fakeProcess(): { proc: ShutdownProcess; emitter: EventEmitter; exits: number[] } {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  const proc = { once: (event: string, fn: () => void) => emitter.once(event, fn), exit: (code?: number) => void exits.push(code ?? 0) } as unknown as ShutdownProcess;
  return { proc, emitter, exits };
}

describe('shutdownDeadlines', () => {
  test.each([
    ['the worker default: 5 s kept for cleanup', 30_000, { abortAtMs: 25_000, exitAtMs: 30_000 }],
    ['a long grace keeps no more than MAX_CLEANUP_MS', 120_000, { abortAtMs: 120_000 - MAX_CLEANUP_MS, exitAtMs: 120_000 }],
    ['a short grace keeps a quarter', 5000, { abortAtMs: 3750, exitAtMs: 5000 }],
    ['the shortest grace allowed', 1000, { abortAtMs: 750, exitAtMs: 1000 }],
  ])('%s', (_name, graceMs, expected) => {
    expect(shutdownDeadlines(graceMs)).toEqual(expected);
  });
});

describe('onShutdown', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  test('runs the steps in order once, on the first signal, then exits 0', async () => {
    const { proc, emitter, exits } = fakeProcess();
    const ran: string[] = [];
    onShutdown(log, [['a', async () => void ran.push('a')], ['b', async () => void ran.push('b')]], { process: proc });
    emitter.emit('SIGTERM');
    emitter.emit('SIGINT');
    await vi.runAllTimersAsync();
    expect(ran).toEqual(['a', 'b']);
    expect(exits).toEqual([0]);
  });

  test('a failing step does not stop the others; the exit code is 1', async () => {
    const { proc, emitter, exits } = fakeProcess();
    const ran: string[] = [];
    onShutdown(log, [['a', async () => Promise.reject(new Error('no'))], ['b', async () => void ran.push('b')]], { process: proc });
    emitter.emit('SIGINT');
    await vi.runAllTimersAsync();
    expect(ran).toEqual(['b']);
    expect(exits).toEqual([1]);
  });

  test('work still running at the abort deadline is aborted, and the shutdown ends before the grace', async () => {
    const { proc, emitter, exits } = fakeProcess();
    let finishWork!: () => void;
    const work = new Promise<void>((resolve) => (finishWork = resolve));
    const abortedAt: number[] = [];
    const start = Date.now();
    onShutdown(log, [['work', () => work]], {
      process: proc,
      graceMs: 5000,
      // The aborted work takes a moment to clean up, then ends.
      onGraceEnding: () => {
        abortedAt.push(Date.now() - start);
        setTimeout(finishWork, 200);
      },
    });
    emitter.emit('SIGTERM');
    await vi.advanceTimersByTimeAsync(3749);
    expect(abortedAt).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(abortedAt).toEqual([3750]);
    await vi.advanceTimersByTimeAsync(200);
    expect(exits).toEqual([0]);
  });

  test('work that ends in time is not aborted', async () => {
    const { proc, emitter, exits } = fakeProcess();
    const onGraceEnding = vi.fn();
    onShutdown(log, [['work', () => new Promise((resolve) => setTimeout(resolve, 1000))]], { process: proc, graceMs: 5000, onGraceEnding });
    emitter.emit('SIGTERM');
    await vi.runAllTimersAsync();
    expect(onGraceEnding).not.toHaveBeenCalled();
    expect(exits).toEqual([0]);
  });

  test('steps still running at the grace: exits 1 then', async () => {
    const { proc, emitter, exits } = fakeProcess();
    onShutdown(log, [['stuck', () => new Promise(() => {})]], { process: proc, graceMs: 2000, onGraceEnding: noop });
    emitter.emit('SIGTERM');
    await vi.advanceTimersByTimeAsync(1999);
    expect(exits).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(exits).toEqual([1]);
  });
});
