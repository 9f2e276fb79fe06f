/**
 * A redis-server of a test's own, on a free port, that the test may stop and start again (fault
 * tests must never stop the shared Redis on 6379).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../libs/devkit/processes.ts';
import { redisProblem } from '../../libs/redis/connection.ts';

/** A private redis-server; `url` carries the password when one was set. */
export interface PrivateRedis {
  port: number;
  url: string;
  /**
   * Starts the server (again, on the same port) and resolves once it answers PING; `password`
   * replaces the one it was created with for this run (a rotated password, so clients holding
   * the old one are refused).
   */
  start(password?: string): Promise<void>;
  /** Stops the server (SIGKILL: a crash, not a clean shutdown); resolves once it has exited. */
  stop(): Promise<void>;
  /** The server's process id; undefined while it is stopped. */
  readonly pid: number | undefined;
  /** SIGSTOP: the server freezes (connections stay open, nothing is answered) until resume(). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Stops the server and deletes its directory. */
  cleanup(): Promise<void>;
}

/** Options of startPrivateRedis. */
export interface PrivateRedisOptions {
  /** `--requirepass`; none by default. */
  password?: string;
  /** Milliseconds to wait for the first PONG. @defaultValue 10000 */
  readyTimeoutMs?: number;
}

/** Starts a redis-server with no persistence on a free 127.0.0.1 port. */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'private-redis-'));
  const urlWith = (password: string | undefined) => `redis://${password === undefined ? '' : `:${encodeURIComponent(password)}@`}127.0.0.1:${port}`;
  const url = urlWith(options.password);
  let child: ChildProcess | undefined;

  const signal = (name: NodeJS.Signals) => {
    if (!child || child.exitCode !== null) throw new Error(`redis-server on port ${port} is not running`);
    child.kill(name);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGKILL');
    await exited;
  };
  const start = async (password = options.password) => {
    if (child) return;
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'];
    if (password !== undefined) args.push('--requirepass', password);
    child = spawn('redis-server', args, { stdio: 'ignore' });
    const deadline = Date.now() + (options.readyTimeoutMs ?? 10_000);
    while ((await redisProblem(urlWith(password), 500)) !== null) {
      if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with code ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer in time`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  await start();
  return {
    port,
    url,
    get pid() {
      return child?.pid;
    },
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    start,
    stop,
    async cleanup() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
