import { expect, test } from 'vitest';
import { createAjv, toErrorDetails } from './ajv.ts';

const validate = createAjv().compile({
  type: 'object',
  additionalProperties: false,
  required: ['level', 'when'],
  properties: { level: { type: 'string', enum: ['a', 'b'] }, when: { type: 'string', format: 'date' } },
});

test('details name the value and say what to do', () => {
  validate({ level: 'c', when: 'soon', extra: 1 });
  expect(toErrorDetails(validate.errors, '/input')).toEqual([
    { path: '/input', message: "must not have the property 'extra'" },
    { path: '/input/level', message: 'must be one of: "a", "b"' },
    { path: '/input/when', message: 'must match format "date"' },
  ]);
});

test('a root error without a prefix has path /', () => {
  validate(null);
  expect(toErrorDetails(validate.errors)).toEqual([{ path: '/', message: 'must be object' }]);
});

test('strict mode refuses unknown keywords', () => {
  expect(() => createAjv().compile({ type: 'object', propertiez: {} })).toThrow(/unknown keyword/);
});
