/**
 * Operator roles through the real processes: with GATEWAY_ADMIN_TOKEN and GATEWAY_VIEWER_TOKEN set,
 * a finished job's data in Bull Board is redacted for the viewer as the feature config says (and
 * as it says after a reload), whole for the admin; a viewer's change answers 403.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, expect, test } from 'vitest';
import { careerSubmission } from '../../scripts/demo/profiles.ts';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const ADMIN = `admin-${randomBytes(12).toString('hex')}`;
const VIEWER = `viewer-${randomBytes(12).toString('hex')}`;
const R = '[redacted]';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

type BoardJob = { data: { userId: string; input: Record<string, unknown>; metadata: unknown; answer?: { text: string } } };

test('the viewer sees Bull Board redacted as the feature config says, and cannot change anything', async () => {
  gw = await startTestGateway({ env: { GATEWAY_ADMIN_TOKEN: ADMIN, GATEWAY_VIEWER_TOKEN: VIEWER } });
  const admin = (path: string, token: string, method = 'GET') => fetch(`${gw!.system.apiUrl}/admin${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  const boardJob = async (token: string, id: string): Promise<BoardJob> => {
    const answer = await admin(`/queues/api/queues/llm-jobs/${id}`, token);
    expect(answer.status).toBe(200);
    return ((await answer.json()) as { job: BoardJob }).job;
  };

  const submission = { ...careerSubmission(5), metadata: { email: 'person5@example.com' } } as unknown as { input: Record<string, unknown>; user_id: string };
  const id = await gw.client.submit(submission);
  const finished = (await gw.client.waitForAll([id], { timeoutMs: 30_000 })).get(id) as { status: string; result: { text: string } } | undefined;
  expect(finished?.status).toBe('completed');
  const text = finished!.result.text;

  expect((await admin('/queues', VIEWER)).status).toBe(200);
  const seen = await boardJob(VIEWER, id);
  expect(seen.data.input.current_role).toBe(R);
  expect(seen.data.input.target_sector).toBe(submission.input.target_sector);
  expect(seen.data.metadata).toBe(R);
  expect(seen.data.answer?.text).toBe(R);
  expect(seen.data.userId).toBe(submission.user_id);
  const whole = await boardJob(ADMIN, id);
  expect(whole.data.input).toEqual(submission.input);
  expect(whole.data.answer?.text).toBe(text);

  expect((await admin(`/queues/api/queues/llm-jobs/${id}/clean`, VIEWER, 'PUT')).status).toBe(403);
  expect((await admin(`/webhooks/${id}/replay`, VIEWER, 'POST')).status).toBe(403);
  expect((await boardJob(ADMIN, id)).data.answer?.text).toBe(text);

  // The redaction follows the config the API holds now, reloads included.
  gw.config.edit('features/career_path_navigator.json', (json) => {
    json.privacy = { personal_fields: ['user_id'], answer_is_personal: false };
  });
  await eventually(async () => (await boardJob(VIEWER, id)).data.userId === R, 10_000, 'the reloaded privacy settings');
  const reloaded = await boardJob(VIEWER, id);
  expect(reloaded.data.input).toEqual(submission.input);
  expect(reloaded.data.answer?.text).toBe(text);
}, 90_000);
