/**
 * CPU accounting from /proc (Linux): how much CPU each process of a run spent, per job, and how
 * busy the rest of the machine was meanwhile. On a 2-core machine 2,000 jobs/s leaves 1 ms of CPU
 * per job for everything (API, worker, simulator, Redis, load generator), so this is the breakdown
 * that says where a throughput shortfall comes from. Elsewhere every figure reads null.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

let ticksPerSecond = 100;
try {
  ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // not Linux, or no getconf: keep the usual 100
}

/**
 * CPU time (user + system) a process has used, ms; null when it cannot be read. `mainThread`:
 * its main thread's alone (the event loop), without its worker threads'.
 */
export function processCpuMs(pid: number | undefined, mainThread = false): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / ticksPerSecond) * 1000;
  } catch {
    return null;
  }
}

/** CPU time the whole machine has spent busy, and its capacity (all CPUs), ms; null off Linux. */
function machineCpuMs(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: ((total - idle) / ticksPerSecond) * 1000, total: (total / ticksPerSecond) * 1000 };
  } catch {
    return null;
  }
}

/** The pid of a local Redis server, from INFO; undefined for a remote one. */
export async function localRedisPid(redis: Redis, url: string): Promise<number | undefined> {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) return undefined;
  const info = await redis.info('server');
  const pid = /process_id:(\d+)/.exec(info)?.[1];
  return pid ? Number(pid) : undefined;
}

/** Measures named processes between start() and stop(). The bench's own process is `self`. */
export class CpuMeter {
  readonly #procs: Array<{ name: string; pid: number | undefined; mainThread?: boolean }>;
  #start: Array<number | null> = [];
  #self = process.cpuUsage();
  #machine: { busy: number; total: number } | null = null;
  #wall = 0;

  /** `mainThread`: count that process's main thread alone (shown beside the whole process, not summed). */
  constructor(procs: Array<{ name: string; pid: number | undefined; mainThread?: boolean }>) {
    this.#procs = procs;
  }

  start(): void {
    this.#start = this.#procs.map((p) => processCpuMs(p.pid, p.mainThread));
    this.#self = process.cpuUsage();
    this.#machine = machineCpuMs();
    this.#wall = performance.now();
  }

  /** One line: CPU us per unit of work for each process, and the share of the machine others used. */
  stop(units: number, unit = 'job'): string {
    return this.measure(units, unit).line;
  }

  /**
   * CPU per unit of work since start(): the line stop() prints, and the figures as milliseconds per
   * unit by process name (processes sharing a name, e.g. several workers, are summed; the bench's own
   * process is `load generator`; a process that could not be read is left out).
   */
  measure(units: number, unit = 'job'): { line: string; msPerUnit: Record<string, number> } {
    const wall = performance.now() - this.#wall;
    const parts: string[] = [];
    const msPerUnit: Record<string, number> = {};
    let ours = 0;
    this.#procs.forEach((p, i) => {
      const before = this.#start[i];
      const after = processCpuMs(p.pid, p.mainThread);
      if (before === null || before === undefined || after === null) return;
      if (!p.mainThread) ours += after - before;
      msPerUnit[p.name] = (msPerUnit[p.name] ?? 0) + (after - before) / units;
      parts.push(`${p.name} ${(((after - before) / units) * 1000).toFixed(0)}`);
    });
    const self = process.cpuUsage(this.#self);
    const selfMs = (self.user + self.system) / 1000;
    ours += selfMs;
    msPerUnit['load generator'] = selfMs / units;
    parts.push(`load generator ${((selfMs / units) * 1000).toFixed(0)}`);
    const m0 = this.#machine;
    const m1 = machineCpuMs();
    let machine = '';
    if (m0 && m1) {
      const capacity = m1.total - m0.total;
      const busy = m1.busy - m0.busy;
      machine = `; machine ${((busy / capacity) * 100).toFixed(0)}% busy over ${(wall / 1000).toFixed(1)} s, ${(((busy - ours) / capacity) * 100).toFixed(0)}% of it by processes outside this bench`;
    }
    return { line: `CPU us per ${unit}: ${parts.join(', ')} (sum ${((ours / units) * 1000).toFixed(0)})${machine}`, msPerUnit };
  }
}
