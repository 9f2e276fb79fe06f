/** Readiness: each dependency answers within a deadline, or is named as the one that did not. */

/** What a readiness check found of one dependency. */
export type CheckState = 'ok' | 'failed' | 'timeout';

/** The answer of /readyz: ready, or which dependencies are not. */
export interface Readiness {
  ready: boolean;
  checks: Record<string, CheckState>;
}

/** Milliseconds each dependency has to answer a readiness check. @defaultValue 800 */
export const READY_TIMEOUT_MS = 800;

/**
 * Runs every check at once, each with `timeoutMs` (default 800 ms, so /readyz answers within a
 * second): a check that throws or answers false is `failed`, one that does not answer in time is
 * `timeout`. Never throws.
 */
export async function checkReadiness(checks: Record<string, () => Promise<boolean>>, timeoutMs = READY_TIMEOUT_MS): Promise<Readiness> {
  const states = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, CheckState]> => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<CheckState>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      const answer = Promise.resolve()
        .then(check)
        .then((ok): CheckState => (ok ? 'ok' : 'failed'), (): CheckState => 'failed');
      const state = await Promise.race([answer, late]);
      clearTimeout(timer);
      return [name, state];
    }),
  );
  const result = Object.fromEntries(states);
  return { ready: states.every(([, s]) => s === 'ok'), checks: result };
}
