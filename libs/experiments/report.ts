/**
 * The A/B analysis behind GET /v1/experiments/:id/report: pure arithmetic over the rows the store
 * answers (JobStore.experimentRows), no I/O. The rows are grouped once (armSample.ts); the parts
 * are the per-variant figures, the control-against-each-variant tests, the sample-ratio check,
 * the verdict, the per-category breakdown and the cost analysis.
 *
 * Which model is better is judged only on answers that model itself gave (`served_by` =
 * `provider`, not degraded): a failover answer came from the other model, a downgrade from a
 * cheaper one, a cache hit had no model latency, and a degraded fallback is canned text. Counting
 * them would blur the comparison; they still count in the volume, outcome and cost figures.
 */
import type { Experiment } from '../config/types.ts';
import { GatewayError } from '../errors/index.ts';
import type { ExperimentRow } from '../store/types.ts';
import { variantSamples } from './armSample.ts';
import { categoryBreakdowns } from './categories.ts';
import { CostAccumulator } from './costAnalysis.ts';
import { metricTests, type ComparedArm } from './metricTests.ts';
import type { Comparison, ExperimentReport } from './reportTypes.ts';
import { reportVerdict } from './reportVerdict.ts';
import { RowTableBuilder } from './rowTable.ts';
import { sampleRatioCheck } from './sampleRatio.ts';
import { variantFigures } from './variantFigures.ts';

export { servedByOwnModel } from './rowTable.ts';

/** Days the report looks back when no `since` is given. */
export const DEFAULT_REPORT_WINDOW_DAYS = 30;

const DAY_MS = 86_400_000;

/** Explains which jobs the latency and rating statistics use. */
export const MODEL_ONLY_NOTE =
  "Latency and rating statistics use only answers the variant's own model gave (served_by = provider). Failover, downgrade, cache and degraded answers are left out because they would blur which model is better; they still count in jobs, outcomes and cost. Holdout units are outside the comparison.";

/** Options for analyseExperiment. */
export interface AnalyseOptions {
  /** ISO-8601 start of the window the rows were read from, echoed in the report. */
  since: string;
  /** Two-sided confidence level of every interval. @defaultValue 0.95 */
  confidence?: number;
}

/**
 * The `since` of a report request: an ISO-8601 date or date-time, or `now` minus 30 days when
 * absent; answered as an ISO-8601 UTC timestamp (the form stored `created_at` values compare with).
 * Throws GatewayError `invalid_query` (400) for anything else.
 */
export function reportSince(value: unknown, now: Date): string {
  if (value === undefined) return new Date(now.getTime() - DEFAULT_REPORT_WINDOW_DAYS * DAY_MS).toISOString();
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;
  const ms = typeof value === 'string' && iso.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) {
    throw new GatewayError('invalid_query', '`since` must be one ISO-8601 date or date-time with a time zone, e.g. 2026-01-31 or 2026-01-31T00:00:00Z.', {
      status: 400,
      details: [{ path: 'since', message: 'must be an ISO-8601 date or date-time' }],
    });
  }
  return new Date(ms).toISOString();
}

/**
 * The report of experiment `experimentId` (configured as `experiment`) from its rows of the
 * window starting at `options.since`, as seen at `now`. The rows are read once, in one pass, so
 * they may be streamed from the store (an array works as well).
 */
export function analyseExperiment(experimentId: string, experiment: Experiment, rows: Iterable<ExperimentRow>, now: Date, options: AnalyseOptions): ExperimentReport {
  const confidence = options.confidence ?? 0.95;
  const configured = new Map(experiment.variants.map((v) => [v.name, v]));
  const totalWeight = experiment.variants.reduce((sum, v) => sum + Math.max(0, v.weight), 0);
  const builder = new RowTableBuilder(experiment.variants.map((v) => v.name));
  const costs = new CostAccumulator({ variants: experiment.variants.map((v) => ({ name: v.name, weight: v.weight })), now, since: options.since });
  for (const row of rows) {
    builder.add(row);
    costs.add(row);
  }
  const table = builder.finish();

  const arms: ComparedArm[] = [];
  const variants = variantSamples(table).map((sample, arm) => {
    const name = table.variants[arm]!;
    const figures = variantFigures({ name, sample, config: configured.get(name), totalWeight, confidence });
    arms.push({ name, sample, medianLatency: figures.provider_latency_ms.p50 });
    return figures;
  });

  const [control, ...others] = arms;
  const comparisons: Comparison[] = control ? others.map((other) => ({ a: control.name, b: other.name, tests: metricTests(control, other, confidence) })) : [];
  const sampleRatio = sampleRatioCheck(table, experiment);

  return {
    experiment: experimentId,
    since: options.since,
    generated_at: now.toISOString(),
    confidence,
    note: MODEL_ONLY_NOTE,
    unassigned_jobs: table.unassignedJobs,
    holdout_jobs: table.holdoutJobs,
    variants,
    comparisons,
    sample_ratio: sampleRatio,
    verdict: reportVerdict(comparisons[0], sampleRatio, confidence),
    // The first comparison is of arm 0 (the control) against arm 1.
    categories: categoryBreakdowns(table, 0, comparisons.length > 0 ? 1 : undefined, confidence),
    cost: costs.result(),
  };
}
