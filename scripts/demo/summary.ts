import { quantileSorted } from 'simple-statistics';

/** One provider's line in the demo's summary table. */
export interface ProviderSummary {
  provider: string;
  jobs: number;
  p50Ms: number;
  p95Ms: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

interface FinishedJob {
  status?: unknown;
  provider?: unknown;
  usage?: { input_tokens: number; output_tokens: number } | null;
  cost_usd?: unknown;
  latency_ms?: { provider: number; total: number } | null;
}

/** Groups finished jobs by provider: counts, provider-call latency percentiles, tokens and cost. */
export function summarise(jobs: FinishedJob[]): ProviderSummary[] {
  const groups = new Map<string, FinishedJob[]>();
  for (const job of jobs) {
    const key = job.status === 'completed' ? String(job.provider ?? 'unknown') : `(${String(job.status)})`;
    groups.set(key, [...(groups.get(key) ?? []), job]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([provider, group]) => {
      const latencies = group.map((j) => j.latency_ms?.provider ?? 0).sort((a, b) => a - b);
      return {
        provider,
        jobs: group.length,
        p50Ms: Math.round(quantileSorted(latencies, 0.5)),
        p95Ms: Math.round(quantileSorted(latencies, 0.95)),
        inputTokens: group.reduce((s, j) => s + (j.usage?.input_tokens ?? 0), 0),
        outputTokens: group.reduce((s, j) => s + (j.usage?.output_tokens ?? 0), 0),
        costUsd: group.reduce((s, j) => s + (typeof j.cost_usd === 'number' ? j.cost_usd : 0), 0),
      };
    });
}

/** The summary as an aligned text table with a total line. */
export function formatSummary(rows: ProviderSummary[]): string {
  const header = ['provider', 'jobs', 'p50 ms', 'p95 ms', 'input tok', 'output tok', 'cost USD'];
  const total = rows.reduce(
    (t, r) => ({ jobs: t.jobs + r.jobs, in: t.in + r.inputTokens, out: t.out + r.outputTokens, cost: t.cost + r.costUsd }),
    { jobs: 0, in: 0, out: 0, cost: 0 },
  );
  const body = rows.map((r) => [r.provider, r.jobs, r.p50Ms, r.p95Ms, r.inputTokens, r.outputTokens, r.costUsd.toFixed(4)].map(String));
  body.push(['total', total.jobs, '', '', total.in, total.out, total.cost.toFixed(4)].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
