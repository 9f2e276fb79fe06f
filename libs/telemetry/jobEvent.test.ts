import { describe, expect, test } from 'vitest';
import { makeJobRecord } from '../../test/helpers/storeConformance.ts';
import { jobEvent } from './jobEvent.ts';

describe('jobEvent', () => {
  test('flattens a finished job without its prompt or answer text', () => {
    const record = makeJobRecord({ id: 'j1', status: 'completed' });
    const line = jobEvent(record);
    expect(line).toMatchObject({ event: 'job_finished', job_id: 'j1', status: 'completed', client_id: record.client_id });
    expect(JSON.stringify(line)).not.toContain(record.result?.text ?? 'no text');
  });
});
