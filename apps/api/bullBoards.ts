/**
 * Bull Board, twice, at the same URL: the admin's board, and the viewer's board, whose queues are
 * in Bull Board's read-only mode (no action buttons, and its API refuses changes too) and whose job
 * data and return values pass through the personal-field redaction (libs/operator/jobRedaction.ts).
 * Bull Board's read-only mode is per queue adapter and its formatters are per adapter, so a viewer
 * needs adapters, and therefore a board, of its own.
 */
import type express from 'express';
import type { Queue } from 'bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { FeatureConfig } from '../../libs/config/types.ts';
import { redactJobData, redactReturnValue } from '../../libs/operator/jobRedaction.ts';
import type { OperatorRole } from '../../libs/operator/roles.ts';

/** Options of bullBoards. */
export interface BullBoardsOptions {
  queues: Queue[];
  /** Where the boards are mounted, for the links of their pages. @defaultValue '/admin/queues' */
  basePath?: string;
  /** The features of the current config, read each time a job is shown. */
  features: () => Record<string, FeatureConfig>;
}

/** The Express app serving one role's board. */
export type BoardsByRole = Record<OperatorRole, express.Express>;

function board(basePath: string, adapters: BullMQAdapter[]): express.Express {
  const server = new ExpressAdapter();
  server.setBasePath(basePath);
  createBullBoard({ queues: adapters, serverAdapter: server });
  const app = server.getRouter() as express.Express;
  // Bull Board serves from an Express app of its own, which would announce itself in X-Powered-By.
  app.disable('x-powered-by');
  return app;
}

/** Builds the admin board and the read-only, redacting viewer board over the same queues. */
export function bullBoards(options: BullBoardsOptions): BoardsByRole {
  const basePath = options.basePath ?? '/admin/queues';
  const viewerAdapters = options.queues.map((queue) => {
    const adapter = new BullMQAdapter(queue, { readOnlyMode: true });
    adapter.setFormatter('data', (data: unknown) => redactJobData(queue.name, data, options.features()));
    adapter.setFormatter('returnValue', (value: unknown) => redactReturnValue(value));
    return adapter;
  });
  return {
    admin: board(basePath, options.queues.map((queue) => new BullMQAdapter(queue))),
    viewer: board(basePath, viewerAdapters),
  };
}
