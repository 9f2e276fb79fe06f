/**
 * The operator dashboard in a real headless Chromium, against the real processes: the page loads
 * with the admin credentials, with no console error and no failed request, refreshes itself, fits
 * a 1366x768 screen, and every figure it shows equals the summary endpoint's (and the budget
 * figures GET /v1/budget's). With DASHBOARD_SCREENSHOT=<path> it also saves a screenshot there
 * (`npm run screenshot` writes docs/dashboard.png).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { careerSubmission } from '../../scripts/demo/profiles.ts';
import { CHROMIUM, launchChromium, noticeMissingChromium } from '../helpers/chromium.ts';
import { eventually, startTestGateway, type TestGateway, fastBatchLane } from '../helpers/gateway.ts';

const ADMIN_TOKEN = `admin-${randomBytes(12).toString('hex')}`;
const JOBS = 8;
const SCREENSHOT = process.env.DASHBOARD_SCREENSHOT;

noticeMissingChromium('dashboard browser test');

type Json = Record<string, unknown>;

// The month-end forecast extrapolates spend over the time elapsed, so two reads a moment apart
// differ a little: it is compared within a relative tolerance, every other figure exactly.
const FORECAST = 'budget.month.forecast_usd';
const FORECAST_TOLERANCE = 0.01;
const closeEnough = (a: unknown, b: unknown) => typeof a === 'number' && typeof b === 'number' && Math.abs(a - b) <= FORECAST_TOLERANCE * Math.max(Math.abs(a), Math.abs(b), 1e-6);

const at = (obj: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((o, key) => (o === null || o === undefined ? undefined : (o as Json)[key]), obj);

describe.skipIf(!CHROMIUM)('operator dashboard in Chromium', () => {
  let gw: TestGateway;
  let browser: Browser;

  const admin = async (path: string) => {
    const response = await fetch(`${gw.system.apiUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as Json;
  };
  const budget = async () => {
    const answer = await gw.client.request<Json>('GET', '/v1/budget');
    expect(answer.status).toBe(200);
    return answer.body;
  };

  beforeAll(async () => {
    // The generic category answers ride the batch lane: a fast one lets the gateway fall quiet soon.
    gw = await startTestGateway({ env: { GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN }, editConfig: fastBatchLane });
    browser = await launchChromium();
    const ids = await Promise.all(Array.from({ length: JOBS }, (_, i) => gw.client.submit(careerSubmission(i))));
    await gw.client.waitForAll(ids, { timeoutMs: 60_000 });
    // Quiet: nothing queued or in flight (category jobs included), every finished job stored.
    const quietFrom = Date.now();
    let last = '';
    await eventually(async () => {
      const s = await admin('/admin/api/summary');
      const q = s.queue as Json;
      const now = JSON.stringify([s.window && (s.window as Json).jobs, at(s, 'budget.month.spent_usd'), at(s, 'budget.month.reserved_usd'), q]);
      const quiet = q.waiting === 0 && q.active === 0 && q.delayed === 0 && q.prioritized === 0 && ((s.window as Json).jobs as number) >= JOBS && now === last;
      last = now;
      return quiet;
    }, 60_000, 'a quiet gateway');
    console.info(`[dashboard] quiet after ${Date.now() - quietFrom} ms`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
  });

  test('the summary endpoint needs the operator credentials', async () => {
    const response = await fetch(`${gw.system.apiUrl}/admin/api/summary`);
    expect(response.status).toBe(401);
  });

  test('shows the endpoints\' figures, refreshes itself, with no console error or failed request', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, httpCredentials: { username: 'operator', password: ADMIN_TOKEN } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => void (r.status() >= 400 && problems.push(`${r.status()}: ${r.url()}`)));
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));

    await page.goto(`${gw.system.apiUrl}/admin`);
    await eventually(async () => (await refreshes(page)) >= 1, 15_000, 'the first render');

    // Each figure against a summary read right after the page's; retried in case a late write
    // (an alert evaluation, a category job) landed between the two reads.
    let mismatches: string[] = [];
    await eventually(async () => {
      mismatches = await compareWithSummary(page, await admin('/admin/api/summary'));
      return mismatches.length === 0;
    }, 20_000, 'the page to show the summary\'s figures').catch((e: Error) => {
      throw new Error(`${e.message}: ${mismatches.join('; ')}`);
    });

    // The budget figures are GET /v1/budget's.
    const v1 = await budget();
    const shown = await figures(page);
    for (const field of ['spent_usd', 'reserved_usd', 'limit_usd', 'remaining_usd', 'period']) {
      expect(shown[`budget.month.${field}`], field).toEqual(at(v1, `month.${field}`));
    }
    expect(closeEnough(shown[FORECAST], at(v1, 'month.forecast_usd')), `forecast ${String(shown[FORECAST])} vs ${String(at(v1, 'month.forecast_usd'))}`).toBe(true);
    expect(shown['budget.day.spent_usd']).toEqual(at(v1, 'day.spent_usd'));
    // Jobs ran, so the window has spend, latency and variants to show.
    expect(shown['spend.total_usd']).toBeGreaterThan(0);
    expect(Object.keys(shown).some((k) => /^latency_ms\.[^.]+\.p95$/.test(k))).toBe(true);
    // The experiment links to its report of each client, which opens under the same credentials.
    const report = page.locator('#experiments a.report').first();
    expect(await report.getAttribute('href')).toBe(`/admin/api/experiments/career_model_ab/report?client_id=${gw.system.clientId}`);
    const reportPage = await context.newPage();
    const answer = await reportPage.goto(`${gw.system.apiUrl}${await report.getAttribute('href')}`);
    expect(answer?.status()).toBe(200);
    const strip = ({ generated_at: _at, since: _since, ...rest }: Json) => rest;
    expect(strip((await answer!.json()) as Json)).toEqual(strip((await gw.client.request<Json>('GET', '/v1/experiments/career_model_ab/report')).body));
    await reportPage.close();
    expect(await page.locator('#burn-chart canvas').count()).toBeGreaterThan(0);

    const before = await refreshes(page);
    await eventually(async () => (await refreshes(page)) > before, 15_000, 'a refresh');

    // Usable on a laptop screen: nothing wider than the window.
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth)).toBeLessThanOrEqual(1366);
    // Offline: every request stayed on the gateway's origin.
    expect(requested.filter((u) => !u.startsWith(gw.system.apiUrl))).toEqual([]);
    expect(problems).toEqual([]);
    if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT });
    await context.close();
  });
});

// What the page functions below read; this file is type-checked without the DOM library.
interface PageGlobals {
  document: { documentElement: { scrollWidth: number } };
}

/** How many times the page has rendered a summary (it counts them in body[data-refreshes]). */
async function refreshes(page: Page): Promise<number> {
  return Number((await page.locator('body').getAttribute('data-refreshes')) ?? 0);
}

/** Every [data-field] of the page: its path and the JSON value it shows. */
async function figures(page: Page): Promise<Record<string, unknown>> {
  const pairs = await page.$$eval('[data-field]', (els) => els.map((el) => [el.getAttribute('data-field') ?? '', el.getAttribute('data-value') ?? 'null']));
  return Object.fromEntries(pairs.map(([field, value]) => [field, JSON.parse(value!) as unknown]));
}

/** The figures the page shows that differ from `summary`'s, as readable lines. */
async function compareWithSummary(page: Page, summary: Json): Promise<string[]> {
  const shown = await figures(page);
  expect(Object.keys(shown).length).toBeGreaterThan(20);
  return Object.entries(shown)
    .filter(([path, value]) => (path === FORECAST ? !closeEnough(value, at(summary, path)) : JSON.stringify(value) !== JSON.stringify(at(summary, path) ?? null)))
    .map(([path, value]) => `${path}: page ${JSON.stringify(value)}, endpoint ${JSON.stringify(at(summary, path))}`);
}
