import { describe, expect, test } from 'vitest';
import { makeJobRecord } from '../../test/helpers/storeConformance.ts';
import { jobEvent, webhookFinishedEvent } from './jobEvent.ts';

describe('jobEvent', () => {
  test('flattens a finished job without its prompt or answer text', () => {
    const record = makeJobRecord({ id: 'j1', status: 'completed' });
    const line = jobEvent(record);
    expect(line).toMatchObject({ event: 'job_finished', job_id: 'j1', status: 'completed', client_id: record.client_id });
    expect(JSON.stringify(line)).not.toContain(record.result?.text ?? 'no text');
  });

  test('carries the request id and the time it was written', () => {
    const at = new Date('2026-12-02T01:00:00.000Z');
    expect(jobEvent(makeJobRecord({ request_id: 'rails-123' }), at)).toMatchObject({ ts: '2026-12-02T01:00:00.000Z', request_id: 'rails-123' });
    expect(jobEvent(makeJobRecord()).request_id).toBeNull();
  });

  test('an ended webhook delivery is a line of its own', () => {
    const ended = { jobId: 'j1', webhookId: 'msg_j1', requestId: 'rails-123', status: 'dead_letter' as const, attempts: 3, httpStatus: 500, error: 'webhook_http_error: status 500.' };
    expect(webhookFinishedEvent(ended, new Date('2026-12-02T01:00:00.000Z'))).toEqual({
      ts: '2026-12-02T01:00:00.000Z',
      event: 'webhook_finished',
      job_id: 'j1',
      request_id: 'rails-123',
      webhook_id: 'msg_j1',
      outcome: 'dead_letter',
      attempts: 3,
      http_status: 500,
      error: 'webhook_http_error: status 500.',
    });
  });
});
