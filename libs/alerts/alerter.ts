/**
 * The built-in alerter of one worker process: the evaluation scheduler (a BullMQ job scheduler, so
 * each tick is one job and one evaluation cluster-wide however many workers run), the workers of
 * the evaluation and notification queues, and the signal recorder the pipeline feeds.
 */
import { Queue, Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { RedisClient } from '../redis/client.ts';
import type { ConfigHolder } from '../config/watch.ts';
import { loadConfig } from '../config/load.ts';
import type { BudgetStore } from '../budget/budgetStore.ts';
import type { SharedBreaker } from '../resilience/sharedBreaker.ts';
import type { WebhookAttempt, WebhookStateFields } from '../webhooks/types.ts';
import { AlertSignals } from './signals.ts';
import { keepScheduled } from '../queue/scheduler.ts';
import { evaluateAlerts } from './evaluator.ts';
import { ALERT_NOTIFY_JOB_OPTIONS, ALERT_NOTIFY_QUEUE, noticeJobId, postAlert } from './notify.ts';
import type { AlertNotice } from './transitions.ts';

/** Name of the BullMQ queue the evaluation scheduler feeds. */
export const ALERT_EVAL_QUEUE = 'alert-eval';

/** Id of the job scheduler that ticks the evaluation. */
export const ALERT_SCHEDULER_ID = 'alerts-evaluate';

/** What startAlerter needs from the worker process. */
export interface AlerterOptions {
  /** A BullMQ-ready connection (maxRetriesPerRequest: null). */
  connection: RedisClient;
  /** The braced queue prefix ('{bull}'). */
  prefix: string;
  config: ConfigHolder;
  budget: Pick<BudgetStore, 'snapshot'>;
  breaker: Pick<SharedBreaker, 'state'>;
  /** The LLM jobs queue, whose oldest waiting job the backlog alert watches. */
  llmQueue: Queue;
  /** GATEWAY_ALERT_WEBHOOK_URL; without it alerts go to the log only. @defaultValue undefined */
  webhookUrl: string | undefined;
  log: Logger;
}

/** A running alerter. */
export interface Alerter {
  /** Where the pipeline, the rate limiter and webhook delivery report what alerts watch. */
  signals: AlertSignals;
  /** Wraps a webhook state store so that every delivery ending dead-lettered is counted. */
  watchWebhookState<T extends { recordAttempt: (jobId: string, attempt: WebhookAttempt, state: WebhookStateFields) => Promise<void> }>(store: T): T;
  /** Stops the workers, writes the pending signals and closes the queues (the scheduler stays: it belongs to the cluster). */
  close(): Promise<void>;
}

/** Starts the alerter in a worker process (see the module comment). */
export function startAlerter(o: AlerterOptions): Alerter {
  const { connection, prefix, config, log } = o;
  const signals = new AlertSignals(connection, prefix, () => config.current().alerts, log);
  const evalQueue = new Queue(ALERT_EVAL_QUEUE, { connection, prefix });
  const notifyQueue = new Queue<AlertNotice>(ALERT_NOTIFY_QUEUE, { connection, prefix });

  keepScheduled({ queue: evalQueue, schedulerId: ALERT_SCHEDULER_ID, jobName: 'evaluate', config, everyMs: (cfg) => cfg.alerts.evaluation_interval_ms, log, what: 'the alert evaluation' });

  const oldestWaitingMs = async () => {
    const [job] = await o.llmQueue.getJobs(['wait'], 0, 0, true);
    return job ? Math.max(0, Date.now() - job.timestamp) : 0;
  };
  const evalWorker = new Worker(
    ALERT_EVAL_QUEUE,
    async () => {
      // Every evaluation reads the files as they are now, so that two workers whose watchers have
      // not both fired yet never decide on different versions of a threshold; an invalid file
      // leaves the running config (the holder reports it once, on its own reload).
      let current = config.current();
      try {
        current = loadConfig(config.configDir);
      } catch {
        // keep the running config
      }
      await evaluateAlerts({
        redis: connection,
        prefix,
        config: () => current,
        budget: o.budget,
        breaker: o.breaker,
        oldestWaitingMs,
        log,
        ...(o.webhookUrl ? { notify: async (notice: AlertNotice) => void (await notifyQueue.add('notify', notice, { ...ALERT_NOTIFY_JOB_OPTIONS, jobId: noticeJobId(notice) })) } : {}),
      });
    },
    { connection, prefix, concurrency: 1 },
  );
  evalWorker.on('error', (err) => log.error({ err }, 'alert evaluation worker error'));
  evalWorker.on('failed', (_job, err) => log.error({ err }, 'an alert evaluation failed'));

  const url = o.webhookUrl;
  const notifyWorker = url
    ? new Worker<AlertNotice>(ALERT_NOTIFY_QUEUE, (job: Job<AlertNotice>) => postAlert(url, job.data), { connection, prefix, concurrency: 5 })
    : undefined;
  notifyWorker?.on('error', (err) => log.error({ err }, 'alert notification worker error'));
  notifyWorker?.on('failed', (job, err) =>
    log.warn({ alert: job?.data.alert, attemptsMade: job?.attemptsMade, err: err.message }, 'an alert notification attempt failed'),
  );

  return {
    signals,
    watchWebhookState(store) {
      const recordAttempt = store.recordAttempt;
      return {
        ...store,
        recordAttempt: async (jobId, attempt, state) => {
          if (state.status === 'dead_letter') signals.deadLetter();
          await recordAttempt(jobId, attempt, state);
        },
      };
    },
    async close() {
      await Promise.all([evalWorker.close(), notifyWorker?.close(), signals.flush()]);
      await Promise.all([evalQueue.close(), notifyQueue.close()]);
    },
  };
}
