// Debian's `chromium`, driven by playwright-core; tests that need it skip with a notice where it is
// missing (`.ci/run` installs it).
import { execFileSync } from 'node:child_process';
import { chromium, type Browser } from 'playwright-core';

function which(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Chromium's path (CHROMIUM_PATH, else `chromium` on PATH), or undefined when it is not installed. */
export const CHROMIUM = process.env.CHROMIUM_PATH || which('chromium');

/** Prints why a browser test is skipped, once per file, so a skip is never silent. */
export function noticeMissingChromium(what: string): void {
  if (!CHROMIUM) console.warn(`[skipped] ${what}: Debian's chromium package is not installed (apt-get install chromium)`);
}

/** Starts headless Chromium with nothing that reaches the internet (no updates, no background fetches). */
export async function launchChromium(): Promise<Browser> {
  if (!CHROMIUM) throw new Error('chromium is not installed');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}
