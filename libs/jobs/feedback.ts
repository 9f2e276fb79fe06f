/** A user's feedback on a job's answer (POST /v1/jobs/:id/feedback): its body and its rules. */
import { GatewayError } from '../errors/index.ts';
import { createAjv, toErrorDetails } from '../config/ajv.ts';
import type { FeedbackRecord, JobRecord } from '../store/types.ts';

/** Longest accepted comment, in characters. */
export const MAX_FEEDBACK_COMMENT = 2000;

/** The feedback body as the API receives it. */
export interface FeedbackBody {
  /** 1 (bad) to 5 (good). */
  rating: number;
  helpful?: boolean;
  comment?: string;
}

const feedbackSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['rating'],
  properties: {
    rating: { type: 'integer', minimum: 1, maximum: 5 },
    helpful: { type: 'boolean' },
    comment: { type: 'string', maxLength: MAX_FEEDBACK_COMMENT },
  },
};

const validateBody = createAjv().compile<FeedbackBody>(feedbackSchema);

/** Checks a feedback body. Throws GatewayError `invalid_body` (400) with one detail per problem. */
export function validateFeedback(body: unknown): FeedbackBody {
  if (!validateBody(body)) {
    throw new GatewayError('invalid_body', 'The request body does not match the feedback format: {"rating": 1-5, "helpful"?: boolean, "comment"?: string}; see details.', {
      status: 400,
      details: toErrorDetails(validateBody.errors ?? []),
    });
  }
  return body;
}

/**
 * The feedback record for `job`, given at `now`. Only a completed job can be rated: anything else
 * has no answer to judge. Throws GatewayError `job_not_completed` (409) otherwise.
 */
export function feedbackFor(job: Pick<JobRecord, 'id' | 'client_id' | 'status'>, body: FeedbackBody, now: Date): FeedbackRecord {
  if (job.status !== 'completed') throw notCompleted(job.id, job.status);
  return {
    job_id: job.id,
    client_id: job.client_id,
    rating: body.rating,
    helpful: body.helpful ?? null,
    comment: body.comment ?? null,
    created_at: now.toISOString(),
  };
}

/** GatewayError `job_not_completed` (409) for a job in `state`. */
export function notCompleted(id: string, state: string): GatewayError {
  return new GatewayError('job_not_completed', `Job "${id}" is ${state}: only a completed job's answer can be rated.`, { status: 409 });
}

/** What the API answers for stored feedback (the record without the client). */
export function publicFeedback(feedback: FeedbackRecord): Omit<FeedbackRecord, 'client_id'> {
  const { client_id: _clientId, ...visible } = feedback;
  return visible;
}
