import type { ValidateFunction } from 'ajv';
import { GatewayError } from '../errors/index.ts';
import type { FeatureConfig } from '../config/types.ts';
import { createAjv, toErrorDetails } from '../config/ajv.ts';
import { checkSubmissionBounds } from './bounds.ts';

/** A job submission as the API receives it (README, "HTTP API"). */
export interface Submission {
  feature: string;
  input: Record<string, unknown>;
  user_id: string;
  callback_url?: string;
  metadata?: Record<string, unknown>;
  /** Seconds the client can wait for the answer; a deadline that leaves room rides the batch lane at the batch price. */
  deadline_s?: number;
}

const submissionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['feature', 'input', 'user_id'],
  properties: {
    feature: { type: 'string', minLength: 1, maxLength: 100 },
    input: { type: 'object' },
    user_id: { type: 'string', minLength: 1, maxLength: 200 },
    callback_url: { type: 'string', format: 'uri', pattern: '^https?://', maxLength: 2048 },
    // Depth, size and keys are bounded by checkSubmissionBounds, without recursion.
    metadata: { type: 'object' },
    // At least a minute (less is no deadline a queue can plan for), at most a week.
    deadline_s: { type: 'integer', minimum: 60, maximum: 604800 },
  },
};

const ajv = createAjv();
const validateEnvelope = ajv.compile<Submission>(submissionSchema);
// Compiled input validators, per feature config object: a config reload brings new objects and so new validators.
const inputValidators = new WeakMap<FeatureConfig, ValidateFunction>();

function inputValidator(feature: FeatureConfig): ValidateFunction {
  let validate = inputValidators.get(feature);
  if (!validate) {
    validate = ajv.compile(feature.input_schema);
    inputValidators.set(feature, validate);
  }
  return validate;
}

/**
 * Checks a submission's envelope, its bounds (libs/jobs/bounds.ts), that its feature exists, and
 * its `input` against the feature's own schema. Throws GatewayError `invalid_body`,
 * `metadata_too_deep`, `metadata_too_large`, `invalid_metadata_key`, `input_too_deep`,
 * `invalid_unicode`, `unknown_feature` or `invalid_input` (all 400).
 */
export function validateSubmission(body: unknown, features: Record<string, FeatureConfig>): { submission: Submission; feature: FeatureConfig } {
  // The envelope schema looks at no value below the top level, so it is safe on any depth.
  if (!validateEnvelope(body)) {
    throw new GatewayError('invalid_body', 'The request body does not match the job submission format; see details.', {
      status: 400,
      details: toErrorDetails(validateEnvelope.errors ?? []),
    });
  }
  const violation = checkSubmissionBounds(body);
  if (violation) {
    throw new GatewayError(violation.code, `The submission breaks a limit at ${violation.path}: ${violation.message}; see the Limits section of the API documentation.`, {
      status: 400,
      details: [{ path: violation.path, message: violation.message }],
    });
  }
  // An own key only: "constructor" or "__proto__" must not find Object.prototype's members.
  const feature = Object.hasOwn(features, body.feature) ? features[body.feature] : undefined;
  if (!feature) {
    throw new GatewayError('unknown_feature', `There is no feature named ${JSON.stringify(body.feature)}. Known features: ${Object.keys(features).join(', ')}.`, {
      status: 400,
      details: [{ path: '/feature', message: 'unknown feature' }],
    });
  }
  const validateInput = inputValidator(feature);
  if (!validateInput(body.input)) {
    throw new GatewayError('invalid_input', `The input does not match the "${feature.name}" input schema; see details.`, {
      status: 400,
      details: toErrorDetails(validateInput.errors ?? [], '/input'),
    });
  }
  return { submission: body, feature };
}
