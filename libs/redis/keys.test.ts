import { describe, expect, test } from 'vitest';
import { familyTag, keyPatterns } from './keys.ts';

// The slot a key lives in depends only on its hash tag: the text between the first '{' and the next '}'.
const tagOf = (key: string) => /\{([^}]*)\}/.exec(key)?.[1];

describe('key families', () => {
  test('a family tag nests inside the queue prefix, apart from the queue tag', () => {
    expect(familyTag('{bull}', 'rl:openai')).toBe('{bull:rl:openai}');
    expect(tagOf(`${familyTag('{bull}', 'cache:abc')}:entry`)).toBe(tagOf(`${familyTag('{bull}', 'cache:abc')}:lock`));
    expect(tagOf(familyTag('{bull}', 'breaker:openai'))).not.toBe(tagOf('{bull}:llm:wait'));
  });

  test('an unbraced prefix is refused', () => {
    expect(() => familyTag('bull', 'rl')).toThrow(/braced/);
  });

  test("the cleanup patterns match the queue's keys and every family's, not another prefix's", () => {
    const patterns = keyPatterns('{gw-1}').map((p) => new RegExp(`^${p.replace(/[{}]/g, '\\$&').replace('*', '.*')}$`));
    const matches = (key: string) => patterns.some((p) => p.test(key));
    expect(matches('{gw-1}:llm:1')).toBe(true);
    expect(matches('{gw-1:rl:client:a}:reads')).toBe(true);
    expect(matches('{gw-10}:llm:1')).toBe(false);
    expect(matches('{gw-10:rl:p}:rpm')).toBe(false);
  });
});
