/**
 * Resident memory of the bench's child processes, read from /proc (Linux): a sampler that keeps
 * every reading with its time, and the pure arithmetic the memory and soak figures are made of.
 * Off Linux every reading is null and the figures read n/a.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** The VmRSS line of a /proc/<pid>/status text, in MB (MiB); null when the line is missing. */
export function parseVmRssMb(status: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) / 1024 : null;
}

/** A process's resident set size now, MB; null when it cannot be read (gone, or not Linux). */
export function processRssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    return parseVmRssMb(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return null;
  }
}

/** One reading: `atMs` on the performance.now() clock, `mb` resident. */
export interface RssSample {
  atMs: number;
  mb: number;
}

/** Reads one process's RSS every `everyMs` (default 100) from start() until stop(). */
export class RssSampler {
  readonly samples: RssSample[] = [];
  readonly #pid: number | undefined;
  readonly #everyMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(pid: number | undefined, everyMs = 100) {
    this.#pid = pid;
    this.#everyMs = everyMs;
  }

  /** Takes a reading at once, then every `everyMs`. */
  start(): void {
    this.#read();
    this.#timer = setInterval(() => this.#read(), this.#everyMs);
  }

  /** Stops sampling (after one last reading); answers the samples. */
  stop(): RssSample[] {
    clearInterval(this.#timer);
    this.#read();
    return this.samples;
  }

  /** The highest reading so far, MB; NaN when there is none. */
  peakMb(): number {
    return this.samples.length === 0 ? NaN : this.samples.reduce((m, s) => Math.max(m, s.mb), 0);
  }

  #read(): void {
    const mb = processRssMb(this.#pid);
    if (mb !== null) this.samples.push({ atMs: performance.now(), mb });
  }
}

/** The median of `values`; NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Splits `[fromMs, toMs)` into consecutive windows of `windowMs` (the last one may be shorter but
 * is dropped when under half a window, too short to compare) and answers each window's bounds.
 */
export function windows(fromMs: number, toMs: number, windowMs: number): Array<{ from: number; to: number }> {
  const out: Array<{ from: number; to: number }> = [];
  for (let from = fromMs; from < toMs; from += windowMs) {
    const to = Math.min(toMs, from + windowMs);
    if (to - from >= windowMs / 2 || out.length === 0) out.push({ from, to });
  }
  return out;
}

/** Growth from `first` to `last` in percent of `first`; NaN when `first` is not a positive number. */
export function growthPct(first: number, last: number): number {
  if (!Number.isFinite(first) || !Number.isFinite(last) || first <= 0) return NaN;
  return ((last - first) / first) * 100;
}

/**
 * Whether a p99 stayed steady from the first window to the last: at most 1.5 times the first plus
 * `slackMs` (default 5 ms, so that a few-ms p99 is not failed for 2 ms of scheduling noise).
 */
export function p99Steady(firstMs: number, lastMs: number, slackMs = 5): boolean {
  if (!Number.isFinite(firstMs) || !Number.isFinite(lastMs)) return false;
  return lastMs <= firstMs * 1.5 + slackMs;
}

/** The `values` whose `times` fall in each window (`from` inclusive, `to` exclusive); `times` and `values` pair up by index. */
export function valuesIn(wins: ReadonlyArray<{ from: number; to: number }>, times: readonly number[], values: readonly number[]): number[][] {
  return wins.map((w) => values.filter((_, i) => times[i]! >= w.from && times[i]! < w.to));
}
