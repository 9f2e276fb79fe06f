/** Starts one of the benchmark's own helper scripts as a child process, like devkit's startApp. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';

/** A running helper process. */
export interface ChildHandle {
  pid: number | undefined;
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Runs `node <script>` with `env` and resolves once a line matches `ready`. */
export async function startScript(script: string, env: NodeJS.ProcessEnv, ready: RegExp, timeoutMs = 20_000): Promise<ChildHandle> {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = once(child, 'exit');
  const alive = () => child.exitCode === null && child.signalCode === null;
  const stop = async (graceMs = 10_000) => {
    if (!alive()) return;
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(force);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script} was not ready within ${timeoutMs} ms:\n${output}`)), timeoutMs);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (ready.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      void exited.then(([code]) => {
        clearTimeout(timer);
        reject(new Error(`${script} exited with code ${code} before it was ready:\n${output}`));
      });
    });
  } catch (e) {
    await stop(0);
    throw e;
  }
  return { pid: child.pid, output: () => output, stop };
}
