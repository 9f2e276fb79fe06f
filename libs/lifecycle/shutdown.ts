import type { Logger } from 'pino';

/** Milliseconds a graceful shutdown may take before the process exits anyway (the API's). Default 10000. */
export const SHUTDOWN_GRACE_MS = 10_000;

/** Most milliseconds kept at the end of a grace for the cleanup after work in progress is aborted. @defaultValue 5000 */
export const MAX_CLEANUP_MS = 5000;

/** When, in ms after the signal, a shutdown aborts the work still in progress, and when it exits anyway. */
export interface ShutdownDeadlines {
  /** Milliseconds after the signal at which the work still in progress is aborted. */
  abortAtMs: number;
  /** Milliseconds after the signal at which the process exits, done or not (the grace). */
  exitAtMs: number;
}

/**
 * The deadlines of a shutdown with `graceMs` in all: the last quarter of the grace (at most
 * MAX_CLEANUP_MS) is kept for the cleanup that aborting needs (returning budget holds and jobs,
 * flushing records, closing connections), so it ends before the exit, not cut off by it.
 */
export function shutdownDeadlines(graceMs: number): ShutdownDeadlines {
  const cleanupMs = Math.min(MAX_CLEANUP_MS, Math.floor(graceMs / 4));
  return { abortAtMs: graceMs - cleanupMs, exitAtMs: graceMs };
}

/** The part of a process a shutdown uses: its signals and its exit. */
export type ShutdownProcess = Pick<NodeJS.Process, 'once' | 'exit'>;

/** Options of onShutdown. */
export interface ShutdownOptions {
  /** Milliseconds from the signal to the exit, whatever the steps are doing then. @defaultValue SHUTDOWN_GRACE_MS */
  graceMs?: number;
  /**
   * Called once at shutdownDeadlines(graceMs).abortAtMs if the steps are still running: abort the
   * work they wait for (jobs in flight), so its cleanup ends before the exit. @defaultValue none
   */
  onGraceEnding?: () => void;
  /** The process whose SIGINT and SIGTERM start the shutdown, and which is exited. @defaultValue process */
  process?: ShutdownProcess;
}

/**
 * Runs `steps` in order on SIGINT or SIGTERM, once, then exits 0 (1 if a step failed or the grace
 * period ran out). Steps should stop taking work first and close connections last.
 */
export function onShutdown(log: Logger, steps: Array<[name: string, step: () => Promise<unknown>]>, options: ShutdownOptions = {}): void {
  const proc = options.process ?? process;
  const graceMs = options.graceMs ?? SHUTDOWN_GRACE_MS;
  const { abortAtMs, exitAtMs } = shutdownDeadlines(graceMs);
  let started = false;
  const shutdown = async (signal: string) => {
    if (started) return;
    started = true;
    log.info({ signal, graceMs }, 'shutting down');
    const { onGraceEnding } = options;
    const abortTimer = onGraceEnding
      ? setTimeout(() => {
          log.warn({ graceMs, afterMs: abortAtMs }, 'shutdown grace ending: aborting the work still in progress');
          onGraceEnding();
        }, abortAtMs)
      : undefined;
    const exitTimer = setTimeout(() => {
      log.error({ graceMs }, 'shutdown took too long; exiting');
      proc.exit(1);
    }, exitAtMs);
    abortTimer?.unref();
    exitTimer.unref();
    let code = 0;
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (err) {
        code = 1;
        log.error({ err, step: name }, 'shutdown step failed');
      }
    }
    clearTimeout(abortTimer);
    clearTimeout(exitTimer);
    proc.exit(code);
  };
  proc.once('SIGINT', () => void shutdown('SIGINT'));
  proc.once('SIGTERM', () => void shutdown('SIGTERM'));
}

/**
 * Calls `reload` on SIGHUP instead of letting Node's default end the process, the convention
 * operators expect ("reread your config"). Several handlers may be added; each runs.
 */
export function onHangup(reload: () => void): void {
  process.on('SIGHUP', reload);
}
