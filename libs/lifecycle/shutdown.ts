import type { Logger } from 'pino';

/** Milliseconds a graceful shutdown may take before the process exits anyway. Default 10000. */
export const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Runs `steps` in order on SIGINT or SIGTERM, once, then exits 0 (1 if a step failed or the grace
 * period ran out). Steps should stop taking work first and close connections last.
 */
export function onShutdown(log: Logger, steps: Array<[name: string, step: () => Promise<unknown>]>, graceMs = SHUTDOWN_GRACE_MS): void {
  let started = false;
  const shutdown = async (signal: string) => {
    if (started) return;
    started = true;
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.error({ graceMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, graceMs);
    timer.unref();
    let code = 0;
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (err) {
        code = 1;
        log.error({ err, step: name }, 'shutdown step failed');
      }
    }
    clearTimeout(timer);
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

/**
 * Calls `reload` on SIGHUP instead of letting Node's default end the process, the convention
 * operators expect ("reread your config"). Several handlers may be added; each runs.
 */
export function onHangup(reload: () => void): void {
  process.on('SIGHUP', reload);
}
