// The operator dashboard: reads /admin/api/summary every REFRESH_MS and renders it. Every figure
// is an element with data-field (its path in the summary) and data-value (the JSON value it
// shows), so a test can compare the page with the endpoint. Text only: no data reaches innerHTML.
'use strict';

const REFRESH_MS = 5000;
const SUMMARY_URL = '/admin/api/summary';

const FORMATS = {
  usd: (v) => (v === null ? 'no cap' : `$${Math.abs(v) < 10 ? v.toFixed(4) : v.toFixed(2)}`),
  seconds: (v) => `${v} s`,
  percent: (v) => (v === null ? '–' : `${(v * 100).toFixed(1)}%`),
  ms: (v) => (v === null ? '–' : String(Math.round(v))),
  plain: (v) => (v === null || v === undefined ? '–' : String(v)),
  // A 'YYYY-MM-DD' the month's budget runs out on, or null: it lasts the month.
  runout: (v) => (v === null ? 'the budget lasts the month' : `on pace to run out on the ${ordinal(Number(String(v).slice(8, 10)))}`),
};

function ordinal(n) {
  const s = n % 10 === 1 && n !== 11 ? 'st' : n % 10 === 2 && n !== 12 ? 'nd' : n % 10 === 3 && n !== 13 ? 'rd' : 'th';
  return `${n}${s}`;
}

function at(obj, path) {
  return path.split('.').reduce((o, key) => (o === null || o === undefined ? undefined : o[key]), obj);
}

function show(el, value, format) {
  el.dataset.value = JSON.stringify(value ?? null);
  el.textContent = (FORMATS[format] ?? FORMATS.plain)(value ?? null);
}

// An element showing the summary's value at `path`.
function figure(tag, summary, path, format) {
  const el = document.createElement(tag);
  el.dataset.field = path;
  if (format) el.dataset.format = format;
  show(el, at(summary, path), format);
  return el;
}

function text(tag, content) {
  const el = document.createElement(tag);
  el.textContent = content;
  return el;
}

function fillStatic(summary) {
  for (const el of document.querySelectorAll('[data-field]')) show(el, at(summary, el.dataset.field), el.dataset.format);
  document.getElementById('generated-at').textContent = new Date(summary.generated_at).toLocaleTimeString();
}

function fillPills(id, items) {
  const list = document.getElementById(id);
  list.replaceChildren(...items);
  if (items.length === 0) list.append(text('li', 'none'));
}

function render(summary) {
  fillStatic(summary);
  fillPills(
    'breakers',
    summary.breakers.map((b, i) => {
      const li = document.createElement('li');
      li.dataset.state = b.state;
      li.append(`${b.provider}: `, figure('span', summary, `breakers.${i}.state`));
      return li;
    }),
  );
  // Firing alerts first, so the one that matters is seen at a glance.
  const alerts = summary.alerts.map((a, i) => ({ a, i })).sort((x, y) => Number(y.a.firing) - Number(x.a.firing));
  fillPills(
    'alerts',
    alerts.map(({ a, i }) => {
      const li = document.createElement('li');
      li.dataset.state = a.firing ? 'firing' : 'quiet';
      li.append(`${a.id}: `);
      const state = figure('span', summary, `alerts.${i}.firing`);
      state.textContent = a.firing ? 'firing' : 'ok';
      li.append(state);
      return li;
    }),
  );

  fillPills(
    'error-codes',
    Object.keys(summary.errors.by_code).map((code) => {
      const li = document.createElement('li');
      li.dataset.state = 'half_open';
      li.append(`${code}: `, figure('span', summary, `errors.by_code.${code}`));
      return li;
    }),
  );

  const spend = Object.entries(summary.spend.by_provider);
  const most = Math.max(0, ...spend.map(([, l]) => l.usd));
  document.querySelector('#spend-provider tbody').replaceChildren(
    ...spend.map(([provider, line]) => {
      const tr = document.createElement('tr');
      const usd = figure('td', summary, `spend.by_provider.${provider}.usd`, 'usd');
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = `${most > 0 ? Math.round((line.usd / most) * 80) : 0}px`;
      usd.prepend(bar);
      tr.append(text('td', provider), figure('td', summary, `spend.by_provider.${provider}.jobs`), usd);
      return tr;
    }),
  );
  document.querySelector('#latency tbody').replaceChildren(
    ...Object.keys(summary.latency_ms).map((provider) => {
      const tr = document.createElement('tr');
      tr.append(text('td', provider), figure('td', summary, `latency_ms.${provider}.jobs`));
      for (const p of ['p50', 'p95', 'p99']) tr.append(figure('td', summary, `latency_ms.${provider}.${p}`, 'ms'));
      return tr;
    }),
  );
  document.getElementById('experiments').replaceChildren(...summary.experiments.map((e, i) => experiment(summary, e, i)));
  if (summary.experiments.length === 0) document.getElementById('experiments').append(text('p', 'No experiment is configured.'));
  drawBurn(summary.budget.month);
}

function experiment(summary, e, i) {
  const box = document.createElement('div');
  box.className = 'experiment';
  const title = text('h3', `${e.id} · ${e.feature} · ${e.status} · report: `);
  // One report per client (the A/B report is a client's own); a client reads it at report_path.
  e.reports.forEach((r, k) => {
    const link = text('a', r.client_id);
    link.href = r.path;
    link.className = 'report';
    title.append(k ? ', ' : '', link);
  });
  if (e.reports.length === 0) title.append(`none in the window (clients read ${e.report_path})`);
  const table = document.createElement('table');
  const head = document.createElement('tr');
  for (const h of ['variant', 'model', 'weight', 'jobs', 'failed', 'USD', 'p50 ms', 'p95 ms']) head.append(text('th', h));
  table.append(head);
  e.variants.forEach((v, j) => {
    const path = `experiments.${i}.variants.${j}`;
    const tr = document.createElement('tr');
    tr.append(
      text('td', v.variant),
      text('td', `${v.provider}/${v.model}`),
      figure('td', summary, `${path}.weight`),
      figure('td', summary, `${path}.jobs`),
      figure('td', summary, `${path}.failed`),
      figure('td', summary, `${path}.usd`, 'usd'),
      figure('td', summary, `${path}.latency_ms.p50`, 'ms'),
      figure('td', summary, `${path}.latency_ms.p95`, 'ms'),
    );
    table.append(tr);
  });
  box.append(title, table);
  return box;
}

// Budget burn: spend from the month's start to now, the linear forecast to its end, and the cap.
// A cap far above the forecast would flatten the spend into the axis, so the chart then scales to
// the forecast and the cap gauge below it tells the proportion.
const CAP_IN_VIEW = 4;
let burnPlot;
let burnKey;
function drawBurn(month) {
  const container = document.getElementById('burn-chart');
  const start = Date.parse(`${month.period}-01T00:00:00Z`) / 1000;
  const end = Date.parse(month.ends_at) / 1000;
  const now = Math.min(end, Date.now() / 1000);
  const cap = month.limit_usd;
  const top = Math.max(month.spent_usd, month.forecast_usd);
  const capShown = cap !== null && cap <= CAP_IN_VIEW * Math.max(top, 1e-9);
  const data = [
    [start, now, end],
    [0, month.spent_usd, null],
    [null, month.spent_usd, month.forecast_usd],
    capShown ? [cap, cap, cap] : [null, null, null],
  ];
  drawCapGauge(month, capShown);
  const width = Math.max(300, container.clientWidth);
  const key = `${width}:${capShown}`;
  if (burnPlot && burnKey === key) return burnPlot.setData(data);
  burnPlot?.destroy();
  burnKey = key;
  burnPlot = new uPlot(
    {
      width,
      height: 220,
      legend: { live: false },
      cursor: { show: false },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, (max || 1) * 1.15] } },
      axes: [{}, { values: (_u, ticks) => ticks.map((t) => `$${t}`), size: 60 }],
      series: [
        {},
        { label: 'spent', stroke: '#5b7bd5', width: 2, fill: 'rgba(91,123,213,.12)' },
        { label: 'forecast', stroke: '#b7791f', width: 2, dash: [6, 4] },
        { label: capShown ? 'cap' : 'cap (off scale)', stroke: '#c53030', width: 1 },
      ],
    },
    data,
    container,
  );
}

// Spent and forecast as shares of the cap.
function drawCapGauge(month, capShown) {
  const gauge = document.getElementById('cap-gauge');
  const cap = month.limit_usd;
  const share = (v) => (cap ? Math.min(100, (v / cap) * 100) : 0);
  gauge.querySelector('.spent').style.width = `${share(month.spent_usd)}%`;
  gauge.querySelector('.forecast').style.width = `${share(month.forecast_usd)}%`;
  gauge.querySelector('.label').textContent =
    cap === null
      ? 'no monthly cap'
      : `spent ${(share(month.spent_usd)).toFixed(1)}% of the cap · forecast ${((month.forecast_usd / cap) * 100).toFixed(1)}%${capShown ? '' : ' · cap off the chart\'s scale'}`;
}

let refreshes = 0;
async function refresh() {
  const status = document.getElementById('status');
  try {
    const response = await fetch(SUMMARY_URL, { credentials: 'same-origin', headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`summary answered ${response.status}`);
    render(await response.json());
    status.dataset.state = 'ok';
    status.textContent = 'live';
    document.body.dataset.refreshes = String(++refreshes);
  } catch (e) {
    // Keep the last figures on screen, and say they are stale.
    status.dataset.state = 'error';
    status.textContent = `stale: ${e.message}`;
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}

document.addEventListener('DOMContentLoaded', refresh);
