/**
 * What the batch lane saved in a demo run: the same finished jobs priced as they were, and as they
 * would have been had every one gone through the realtime lane (the same tokens at the realtime
 * price of the day), side by side per lane.
 */
import type { GatewayConfig } from '../../libs/config/types.ts';
import { costMicros, microsToUsd, priceAt } from '../../libs/budget/cost.ts';

interface FinishedJob {
  status?: unknown;
  lane?: unknown;
  provider?: unknown;
  model?: unknown;
  usage?: { input_tokens: number; output_tokens: number } | null;
  cost_usd?: unknown;
}

/** One lane's line: its jobs, what they cost, and what the same tokens cost in realtime. */
export interface LaneCost {
  lane: string;
  jobs: number;
  costUsd: number;
  realtimeUsd: number;
}

/** Completed jobs by lane, each priced as paid and at the realtime price of `at`. */
export function laneCosts(jobs: FinishedJob[], cfg: GatewayConfig, at: Date): LaneCost[] {
  const lanes = new Map<string, LaneCost>();
  for (const j of jobs) {
    if (j.status !== 'completed') continue;
    const lane = typeof j.lane === 'string' ? j.lane : 'realtime';
    const line = lanes.get(lane) ?? { lane, jobs: 0, costUsd: 0, realtimeUsd: 0 };
    const paid = typeof j.cost_usd === 'number' ? j.cost_usd : 0;
    const model = cfg.providers.providers[String(j.provider)]?.models[String(j.model)];
    // A cache hit or fallback cost nothing in either lane.
    const realtime = model && j.usage && paid > 0 ? microsToUsd(costMicros({ inputTokens: j.usage.input_tokens, outputTokens: j.usage.output_tokens }, priceAt(model, at))) : paid;
    lanes.set(lane, { lane, jobs: line.jobs + 1, costUsd: line.costUsd + paid, realtimeUsd: line.realtimeUsd + realtime });
  }
  return [...lanes.values()].sort((a, b) => b.lane.localeCompare(a.lane));
}

/** The lane comparison as a text table with a total line and the saving. */
export function formatLaneCosts(rows: LaneCost[]): string {
  const total = rows.reduce((t, r) => ({ jobs: t.jobs + r.jobs, cost: t.cost + r.costUsd, realtime: t.realtime + r.realtimeUsd }), { jobs: 0, cost: 0, realtime: 0 });
  const line = (cells: (string | number)[]) => cells.map((c, i) => (i === 0 ? String(c).padEnd(9) : String(c).padStart(20))).join('  ');
  const saved = total.realtime > 0 ? ((1 - total.cost / total.realtime) * 100).toFixed(1) : '0.0';
  return [
    line(['lane', 'jobs', 'cost with lane USD', 'all realtime USD']),
    ...rows.map((r) => line([r.lane, r.jobs, r.costUsd.toFixed(4), r.realtimeUsd.toFixed(4)])),
    line(['total', total.jobs, total.cost.toFixed(4), total.realtime.toFixed(4)]),
    `The batch lane saved ${saved}% of what these requests would cost through the realtime lane alone.`,
  ].join('\n');
}
