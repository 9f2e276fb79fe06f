// A real Prometheus server (Debian's 2.42) for tests: its own temp dir for config and storage, a
// free port, and a small client for the HTTP API. Callers skip when PROMETHEUS is undefined.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../libs/devkit/processes.ts';
import { PROMETHEUS } from './prometheus.ts';

/** One sample of an instant vector answer. */
export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A running Prometheus. */
export interface PrometheusServer {
  url: string;
  /** The temp dir holding prometheus.yml and any extra files (relative paths in the config resolve here). */
  dir: string;
  /** Instant query; throws with Prometheus's error message when the query fails. */
  query(expr: string): Promise<PromSample[]>;
  /** GET /api/v1/<apiPath>'s `data`. */
  api<T>(apiPath: string): Promise<T>;
  /** Everything the server printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Options of startPrometheus. */
export interface PrometheusOptions {
  /** The configuration (prometheus.yml) as an object. */
  config: object;
  /** Extra files written beside prometheus.yml before start, by relative path (target lists, rules). */
  files?: Record<string, string>;
  /** Milliseconds to wait for /-/ready. @defaultValue 30000 */
  readyTimeoutMs?: number;
}

/** Polls `check` every 200 ms until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function pollFor<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Starts Prometheus on a free port with `config`; resolves once it answers /-/ready. */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  if (!PROMETHEUS) throw new Error('the prometheus binary is not installed');
  const dir = mkdtempSync(path.join(tmpdir(), 'gateway-prometheus-'));
  for (const [name, text] of Object.entries(options.files ?? {})) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  writeFileSync(path.join(dir, 'prometheus.yml'), stringify(options.config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = once(child, 'exit');

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const api = async <T>(apiPath: string): Promise<T> => {
    const res = await fetch(`${url}/api/v1/${apiPath}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${apiPath}: ${body.error ?? res.status}`);
    return body.data;
  };

  try {
    const state = await pollFor(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) return 'exited';
        const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) });
        return res.ok ? 'ready' : undefined;
      },
      options.readyTimeoutMs ?? 30_000,
      'prometheus to be ready',
    );
    if (state === 'exited') throw new Error(`prometheus exited with ${child.exitCode ?? child.signalCode}`);
  } catch (e) {
    await stop();
    throw new Error(`${String(e)}\n${output}`, { cause: e });
  }

  return {
    url,
    dir,
    api,
    output: () => output,
    stop,
    query: async (expr) => {
      const data = await api<{ resultType: string; result: PromSample[] }>(`query?query=${encodeURIComponent(expr)}`);
      if (data.resultType !== 'vector') throw new Error(`${expr}: a ${data.resultType}, not a vector`);
      return data.result;
    },
  };
}
