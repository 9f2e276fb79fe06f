/**
 * The dashboard's routes in the in-process API: behind the operator credentials, read-only, served
 * under the /admin CSP with its own script files (no inline script), the chart library from
 * node_modules and nothing else of it, and a summary built from what the store holds.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJobRecord } from '../helpers/storeConformance.ts';
import { startInProcessApi, type InProcessApi } from '../helpers/inProcessApi.ts';
import type { DashboardSummary } from '../../apps/api/dashboard/summary.ts';

const ADMIN_TOKEN = `admin-${randomBytes(12).toString('hex')}`;
let api: InProcessApi<'c1'>;

const get = (path: string, init: RequestInit = {}) => fetch(`${api.baseUrl}${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...init.headers } });

beforeAll(async () => {
  api = await startInProcessApi({ name: 'dashboard', keys: { c1: 'gk_dashboard_test_key_0123456789abcdef' }, adminToken: ADMIN_TOKEN });
});
afterAll(async () => api?.stop());

describe('dashboard routes', () => {
  it('serves the page under the /admin CSP, loading only its own script files', async () => {
    const response = await get('/admin');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('cache-control')).toBe('no-store');
    const html = await response.text();
    // Every script is a file of this origin: the CSP runs no inline script.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc="\/admin\/dashboard\/)[^>]*>/);
    for (const [path, type] of [
      ['/admin/dashboard/dashboard.js', /javascript/],
      ['/admin/dashboard/dashboard.css', /text\/css/],
      ['/admin/dashboard/vendor/uPlot.iife.min.js', /javascript/],
      ['/admin/dashboard/vendor/uPlot.min.css', /text\/css/],
    ] as const) {
      const asset = await get(path);
      expect(asset.status, path).toBe(200);
      expect(asset.headers.get('content-type'), path).toMatch(type);
      expect(asset.headers.get('cache-control'), path).toBe('no-store');
    }
  });

  it('reaches nothing else of node_modules or the sources', async () => {
    for (const path of ['/admin/dashboard/vendor/package.json', '/admin/dashboard/vendor/..%2Fpackage.json', '/admin/dashboard/..%2Frouter.ts', '/admin/dashboard/vendor/uPlot.cjs.js']) {
      expect((await get(path)).status, path).toBe(404);
    }
  });

  it('needs the operator credentials, and answers nothing but GETs', async () => {
    expect((await fetch(`${api.baseUrl}/admin`)).status).toBe(401);
    expect((await fetch(`${api.baseUrl}/admin/api/summary`)).status).toBe(401);
    expect((await get('/admin/api/summary', { method: 'POST' })).status).toBe(404);
  });

  it('summarises the finished jobs the store holds, and the budget as GET /v1/budget shows it', async () => {
    const now = Date.now();
    await api.store.saveMany([
      makeJobRecord({ completed_at: new Date(now - 60_000).toISOString(), provider: 'openai', served_by: 'provider', cost_usd: 0.04, latency_ms: { queue: 1, provider: 700, total: 710 }, experiment: { id: 'career_model_ab', variant: 'gpt4' } }),
      makeJobRecord({ completed_at: new Date(now - 2 * 3_600_000).toISOString(), cost_usd: 9 }),
    ]);
    const summary = (await (await get('/admin/api/summary')).json()) as DashboardSummary;
    const budget = await api.client('c1').request('GET', '/v1/budget');
    expect(summary.budget).toEqual({ ...budget.body, month: { ...(budget.body.month as object), forecast_usd: expect.any(Number) } });
    expect(summary.window).toMatchObject({ minutes: 60, jobs: 1, truncated: false });
    expect(summary.spend.by_provider).toEqual({ openai: { usd: 0.04, jobs: 1 } });
    expect(summary.latency_ms.openai).toEqual({ jobs: 1, p50: 700, p95: 700, p99: 700 });
    expect(summary.queue).toEqual({ waiting: 0, active: 0, delayed: 0, prioritized: 0, oldest_wait_seconds: 0 });
    expect(summary.webhooks).toBeNull();
    expect(summary.breakers.map((b) => [b.provider, b.state])).toEqual([
      ['anthropic', 'closed'],
      ['openai', 'closed'],
    ]);
    expect(summary.experiments[0]!.variants.find((v) => v.variant === 'gpt4')).toMatchObject({ jobs: 1, usd: 0.04 });
  });

  it("serves a client's A/B report under the operator credentials, as the client reads it", async () => {
    const ok = await get('/admin/api/experiments/career_model_ab/report?client_id=c1&since=2020-01-01');
    expect(ok.status).toBe(200);
    const own = await api.client('c1').request('GET', '/v1/experiments/career_model_ab/report?since=2020-01-01');
    const strip = ({ generated_at: _at, ...rest }: Record<string, unknown>) => rest;
    expect(strip((await ok.json()) as Record<string, unknown>)).toEqual(strip(own.body));
    expect((await get('/admin/api/experiments/career_model_ab/report')).status).toBe(400);
    expect((await get('/admin/api/experiments/nope/report?client_id=c1')).status).toBe(404);
    expect((await fetch(`${api.baseUrl}/admin/api/experiments/career_model_ab/report?client_id=c1`)).status).toBe(401);
  });
});
