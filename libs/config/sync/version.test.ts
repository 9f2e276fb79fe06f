import { describe, expect, test } from 'vitest';
import { compareVersions, configHash, decideAdoption, renumber, shouldPublishLocal, versionLabel } from './version.ts';

const v = (number: number, hash: string) => ({ number, hash });

describe('configHash', () => {
  test('ignores key order, sees every byte and file boundary', () => {
    const a = configHash({ 'a.json': '{}', 'b.json': '[1]' });
    expect(configHash({ 'b.json': '[1]', 'a.json': '{}' })).toBe(a);
    expect(configHash({ 'a.json': '{}', 'b.json': '[2]' })).not.toBe(a);
    expect(configHash({ 'a.json': '{}[', 'b.json': '1]' })).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{12}$/);
  });
});

describe('decideAdoption', () => {
  test.each([
    ['nothing published', v(3, 'aaa'), null, null, { kind: 'keep', reason: 'nothing_published' }],
    ['an older publication', v(3, 'aaa'), v(2, 'bbb'), null, { kind: 'keep', reason: 'not_newer' }],
    ['the same publication', v(3, 'aaa'), v(3, 'aaa'), null, { kind: 'keep', reason: 'not_newer' }],
    ['a newer one with the same content', v(3, 'aaa'), v(4, 'aaa'), null, { kind: 'keep', reason: 'same_content' }],
    ['a newer one already refused', v(3, 'aaa'), v(4, 'bbb'), v(4, 'bbb'), { kind: 'keep', reason: 'refused_before' }],
    ['a newer one after an older refusal', v(3, 'aaa'), v(5, 'ccc'), v(4, 'bbb'), { kind: 'adopt' }],
    ['a newer one with other content', v(0, 'aaa'), v(1, 'bbb'), null, { kind: 'adopt' }],
  ] as const)('%s', (_name, running, published, refused, expected) => {
    expect(decideAdoption(running, published, refused)).toEqual(expected);
  });
});

describe('renumber and compare', () => {
  test('takes a newer number for the same content only', () => {
    expect(renumber(v(0, 'aaa'), v(4, 'aaa'))).toEqual(v(4, 'aaa'));
    expect(renumber(v(5, 'aaa'), v(4, 'aaa'))).toEqual(v(5, 'aaa'));
    expect(renumber(v(0, 'aaa'), v(4, 'bbb'))).toEqual(v(0, 'aaa'));
    expect(compareVersions(v(2, 'x'), v(3, 'y'))).toBeLessThan(0);
    expect(versionLabel(v(7, 'x'))).toBe('7');
  });
});

describe('shouldPublishLocal', () => {
  test.each([
    ['watch, files edited', 'watch', 'new', 'old', 'old', true],
    ['watch, files as last read but older than the running config', 'watch', 'old', 'old', 'pub', false],
    ['watch, files edited to what already runs', 'watch', 'pub', 'old', 'pub', false],
    ['sighup, files differ from the running config', 'sighup', 'old', 'old', 'pub', true],
    ['sighup, files are what runs', 'sighup', 'pub', 'pub', 'pub', false],
  ] as const)('%s', (_name, trigger, disk, last, running, expected) => {
    expect(shouldPublishLocal(trigger, disk, last, running)).toBe(expected);
  });
});
