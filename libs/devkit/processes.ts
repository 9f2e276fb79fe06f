import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** The repository root, so scripts and tests can start the apps from anywhere. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A process started as a child (the gateway's apps for `npm start`, the demo, e2e tests and benchmarks). */
export interface AppProcess {
  name: string;
  child: ChildProcess;
  /** Everything it printed, for diagnosis when something goes wrong. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 10000); resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once; resolves when it has exited. */
  kill(): Promise<void>;
}

const READY_LINE: Record<string, RegExp> = {
  api: /api listening/,
  worker: /worker ready/,
  simulator: /simulator listening/,
};

/** Options for startApp. */
export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** Milliseconds to wait for the ready line; generous because a loaded 2-core machine starts several processes at once. Default 60000. */
  readyTimeoutMs?: number;
  /** Called with each line it prints (e.g. to echo it with a prefix). */
  onLine?: (line: string) => void;
  /** Called with the child as soon as it is spawned, before it is ready (so a supervisor can stop one still starting). @defaultValue none */
  onSpawn?: (child: ChildProcess) => void;
}

/** Starts apps/<name>/main.ts on this Node and resolves once it has printed its ready line. */
export function startApp(name: 'api' | 'worker' | 'simulator', options: StartOptions = {}): Promise<AppProcess> {
  return startScript(name, `${ROOT}apps/${name}/main.ts`, READY_LINE[name]!, options);
}

/** Starts `node <script>` on this Node and resolves once a line it prints matches `readyLine`. */
export async function startScript(name: string, script: string, readyLine: RegExp, options: StartOptions = {}): Promise<AppProcess> {
  const child = spawn(process.execPath, [script], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  options.onSpawn?.(child);
  let output = '';
  let buffered = '';
  let ready = false;
  let resolveReady!: () => void;
  const readyPromise = new Promise<void>((resolve) => (resolveReady = resolve));
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    output += text;
    if (output.length > 200_000) output = output.slice(-100_000);
    buffered += text;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      options.onLine?.(line);
      if (!ready && readyLine.test(line)) {
        ready = true;
        resolveReady();
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = once(child, 'exit');
  const exitedEarly = exited.then(([code]) => {
    if (!ready) throw new Error(`${name} exited with code ${code} before it was ready:\n${output.trim()}`);
  });
  exitedEarly.catch(() => {}); // observed through the race below; later exits are not errors here
  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} was not ready within ${timeoutMs} ms:\n${output.trim()}`)), timeoutMs);
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  const stop = async (graceMs = 10_000) => {
    if (!alive()) return;
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(force);
  };
  const kill = async () => {
    if (!alive()) return;
    child.kill('SIGKILL');
    await exited;
  };
  try {
    await Promise.race([readyPromise, exitedEarly, timeout]);
  } catch (e) {
    await kill();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return { name, child, output: () => output, stop, kill };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('could not pick a free port');
  return address.port;
}
