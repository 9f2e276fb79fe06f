/**
 * Admin endpoints: plain handlers from (method, path, body) to a Reply; the server only routes here.
 */
import type { SimulatorState } from './state.ts';
import type { Reply } from './wire.ts';

const json = (status: number, body: unknown): Reply => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

const fail = (status: number, code: string, message: string, details: { message: string }[] = []): Reply =>
  json(status, { error: { code, message, details } });

function parseJson(raw: string): { ok: true; value: unknown } | { ok: false } {
  if (raw.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    return { ok: false };
  }
}

const KNOWN_PATHS = new Set(['/healthz', '/admin/knobs', '/admin/calls', '/admin/calls/timestamps', '/admin/calls/billed', '/admin/calls/received', '/admin/calls/batch', '/admin/reset']);

/** Answers an admin or health request, or returns undefined when the path is not one of them. */
export function handleAdmin(state: SimulatorState, method: string, path: string, raw: string): Reply | undefined {
  const route = `${method} ${path}`;
  switch (route) {
    case 'GET /healthz':
      return json(200, { status: 'ok' });
    case 'GET /admin/knobs':
      return json(200, state.knobs);
    case 'GET /admin/calls':
      return json(200, state.counters.snapshot());
    case 'GET /admin/calls/timestamps':
      // Its own path (the server routes on the path alone): arrival times per provider, for rate-limit proofs.
      return json(200, state.counters.timestamps());
    case 'GET /admin/calls/billed':
      // Tokens of every answer sent, per model: what the providers would bill, priced by the caller.
      return json(200, state.counters.billedSnapshot());
    case 'GET /admin/calls/received':
      // Generation parameters per call, normalised across both formats: proof that both arms were asked alike.
      return json(200, state.received.snapshot());
    case 'GET /admin/calls/batch':
      // Batch API work, apart from /admin/calls (realtime calls only): batches, items, submissions per custom_id.
      return json(200, state.batchCounters.snapshot());
    case 'PUT /admin/knobs':
    case 'PATCH /admin/knobs': {
      const parsed = parseJson(raw);
      if (!parsed.ok) return fail(400, 'invalid_json', 'The body is not valid JSON.');
      const result = state.setKnobs(parsed.value);
      if (!result.ok) {
        return fail(400, 'invalid_knobs', 'Some knobs are invalid.', result.errors.map((message) => ({ message })));
      }
      return json(200, result.knobs);
    }
    case 'POST /admin/reset': {
      const parsed = parseJson(raw);
      if (!parsed.ok) return fail(400, 'invalid_json', 'The body is not valid JSON.');
      const value = parsed.value as { knobs?: unknown } | null;
      state.reset({ knobs: typeof value === 'object' && value !== null && value.knobs === true });
      return json(200, { ok: true, knobs: state.knobs, calls: state.counters.snapshot() });
    }
    default:
      if (KNOWN_PATHS.has(path)) return fail(405, 'method_not_allowed', `${method} is not supported on ${path}.`);
      if (path.startsWith('/admin/')) return fail(404, 'not_found', `No admin endpoint at ${path}.`);
      return undefined;
  }
}
