/**
 * Drives the bare relay (relay.ts) with the closed-loop generator and reads its CPU per request
 * from /proc. The e2e section runs a round before and after the gateway's throughput phase, so that
 * the machine's background load weighs on both sides alike.
 */
import { fileURLToPath } from 'node:url';
import { freePort, startScript, type AppProcess } from '../../libs/devkit/processes.ts';
import { careerSubmission } from '../demo/profiles.ts';
import { deferCleanup } from './cleanup.ts';
import { processCpuMs } from './cpu.ts';
import { closedLoop, jsonPost } from './loadgen.ts';

/** The Chat Completions request the SDK baseline and the relay send: the shape of a gateway job's call. */
export function chatCompletionBody(): { model: string; messages: Array<{ role: 'system' | 'user'; content: string }>; max_completion_tokens: number; temperature: number } {
  const user = JSON.stringify(careerSubmission(1).input);
  return {
    model: 'gpt-4',
    messages: [
      { role: 'system', content: 'You are an experienced, honest career counsellor.' },
      { role: 'user', content: `Please draft a career path plan for me.\n${user}` },
    ],
    max_completion_tokens: 800,
    temperature: 0.4,
  };
}

/** The relay's CPU and request counts, summed over its rounds. */
export interface RelayTotals {
  cpuMs: number;
  requests: number;
  durationMs: number;
  statuses: Record<number, number>;
  errors: number;
  firstError?: string;
}

/** A running relay in front of `simulatorUrl`; `round()` measures one round, `stop()` ends it. */
export interface Relay {
  totals: RelayTotals;
  round(concurrency: number, warmupMs: number, measureMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts relay.ts as a child process forwarding to the simulator. */
export async function startRelay(simulatorUrl: string): Promise<Relay> {
  const port = await freePort();
  const child: AppProcess = await startScript('relay', fileURLToPath(new URL('./relay.ts', import.meta.url)), /relay listening/, {
    env: { PORT: String(port), RELAY_UPSTREAM: `${simulatorUrl}/v1/chat/completions`, NODE_OPTIONS: '' },
  });
  const stop = deferCleanup('relay', () => child.stop());
  const request = jsonPost('127.0.0.1', port, '/v1/chat/completions', JSON.stringify(chatCompletionBody()), { Authorization: 'Bearer sk-bench' });
  const totals: RelayTotals = { cpuMs: 0, requests: 0, durationMs: 0, statuses: {}, errors: 0 };
  return {
    totals,
    stop,
    async round(concurrency, warmupMs, measureMs) {
      let cpuBefore: number | null = null;
      let measuring = false;
      let answered = 0;
      const result = await closedLoop({
        host: '127.0.0.1',
        port,
        connections: concurrency,
        warmupMs,
        measureMs,
        request: () => request,
        onMeasureStart: () => {
          cpuBefore = processCpuMs(child.child.pid);
          measuring = true;
        },
        // Every answer from the measured window on counts, the ones still in flight at its end
        // too: their CPU falls inside the meter's reading.
        onResponse: () => {
          if (measuring) answered++;
        },
      });
      const cpuAfter = processCpuMs(child.child.pid);
      // NaN off Linux (no /proc): the figure then reads null rather than a flattering 0.
      totals.cpuMs += cpuBefore === null || cpuAfter === null ? NaN : cpuAfter - cpuBefore;
      totals.requests += answered;
      totals.durationMs += result.durationMs;
      for (const [k, v] of Object.entries(result.statuses)) totals.statuses[Number(k)] = (totals.statuses[Number(k)] ?? 0) + v;
      totals.errors += result.errors;
      totals.firstError ??= result.firstError;
    },
  };
}
