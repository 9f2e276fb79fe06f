// Debian's `prometheus` package (server and promtool), found on PATH; tests that need it skip with a
// notice where it is missing (`.ci/run` installs it).
import { execFileSync } from 'node:child_process';

/** The absolute path of `name` on PATH, or undefined. */
function which(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** promtool's path, or undefined when Debian's `prometheus` package is not installed. */
export const PROMTOOL = which('promtool');

/** The Prometheus server's path, or undefined when Debian's `prometheus` package is not installed. */
export const PROMETHEUS = which('prometheus');

/** Prints why a Prometheus test is skipped, once per file, so a skip is never silent. */
export function noticeMissingPrometheus(what: string): void {
  if (!PROMTOOL || !PROMETHEUS) console.warn(`[skipped] ${what}: Debian's prometheus package is not installed (apt-get install prometheus)`);
}
