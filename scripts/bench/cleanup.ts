/**
 * Everything the benchmark must undo (child processes, Redis keys, temp files), so that a crash or
 * Ctrl-C still leaves nothing behind. Sections register an undo step and run it themselves when
 * they finish; whatever is still registered runs on a crash or a signal.
 */
const steps: Array<{ name: string; run: () => Promise<void> }> = [];

/** Registers `run`; call the returned function to run it now (once) and unregister it. */
export function deferCleanup(name: string, run: () => Promise<void>): () => Promise<void> {
  const step = { name, run };
  steps.push(step);
  let done: Promise<void> | undefined;
  return () => {
    done ??= (async () => {
      const at = steps.indexOf(step);
      if (at >= 0) steps.splice(at, 1);
      try {
        await run();
      } catch (e) {
        console.error(`cleanup "${name}" failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    })();
    return done;
  };
}

/** Runs every registered step, newest first. */
export async function cleanupAll(): Promise<void> {
  while (steps.length > 0) {
    const step = steps.pop()!;
    try {
      await step.run();
    } catch (e) {
      console.error(`cleanup "${step.name}" failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** On SIGINT or SIGTERM (the first one), prints `stopping …` with `what`, runs every step, exits 130. */
export function cleanupOnSignals(what: string): void {
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      console.error(`\n${signal}: stopping ${what} ...`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
}
