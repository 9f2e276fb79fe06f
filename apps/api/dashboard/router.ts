/**
 * The operator dashboard's routes, mounted inside the /admin router (behind its credentials):
 * the page at /admin, its own script and style under /admin/dashboard/, the chart library
 * (uPlot) served from node_modules under /admin/dashboard/vendor/ (no CDN: the page works
 * offline and the CSP allows only this origin), and the JSON it renders at /admin/api/summary.
 * Only GETs: nothing here changes anything.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import { GatewayError } from '../../../libs/errors/index.ts';
import { getExperimentReport } from '../experimentHandlers.ts';
import { inProcessReports } from '../../../libs/experiments/reportRequest.ts';
import { sharedSummary, type DashboardSources } from './summary.ts';

const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'public');
// uplot's main entry lies in its dist/ folder, beside the browser builds.
const UPLOT_DIST = dirname(createRequire(import.meta.url).resolve('uplot'));

// Exactly the files the page loads; nothing else of node_modules is reachable.
const VENDOR_FILES: Record<string, string> = {
  'uPlot.iife.min.js': join(UPLOT_DIST, 'uPlot.iife.min.js'),
  'uPlot.min.css': join(UPLOT_DIST, 'uPlot.min.css'),
};

/** The dashboard's routes; mount on the /admin router after its authentication. */
export function dashboardRouter(sources: DashboardSources): express.Router {
  const router = express.Router();
  const summary = sharedSummary(sources);
  const reportDeps = { config: sources.config, now: () => new Date(sources.now?.() ?? Date.now()), reports: sources.reports ?? inProcessReports(sources.store) };
  router.get('/', (_req, res) => res.sendFile(join(PUBLIC_DIR, 'index.html'), { cacheControl: false }));
  router.get('/api/summary', async (_req: Request, res: Response, next: NextFunction) => {
    try {
      res.json(await summary());
    } catch (e) {
      next(e);
    }
  });
  // The A/B report a client reads at /v1/experiments/:id/report, of the client named in the query.
  router.get('/api/experiments/:id/report', async (req: Request, res: Response, next: NextFunction) => {
    try {
      const clientId = req.query.client_id;
      if (typeof clientId !== 'string' || clientId === '') throw new GatewayError('invalid_query', 'Name the client whose jobs to report on: ?client_id=<id>.', { status: 400 });
      const answer = await getExperimentReport(reportDeps, clientId, String(req.params.id), { since: req.query.since });
      res.status(answer.status).json(answer.body);
    } catch (e) {
      next(e);
    }
  });
  router.get('/dashboard/vendor/:file', (req, res, next) => {
    const file = Object.hasOwn(VENDOR_FILES, req.params.file) ? VENDOR_FILES[req.params.file] : undefined;
    if (!file) return next();
    res.sendFile(file, { cacheControl: false });
  });
  // cacheControl off: the app-wide `no-store` stands, so a new release's script is never stale.
  router.use('/dashboard', express.static(PUBLIC_DIR, { index: false, cacheControl: false }));
  return router;
}
