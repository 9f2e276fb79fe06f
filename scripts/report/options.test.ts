import { describe, expect, it } from 'vitest';
import { chooseStore, parseReportArgs } from './options.ts';

describe('parseReportArgs', () => {
  it('takes the experiment and defaults to tables', () => {
    expect(parseReportArgs(['career_model_ab'])).toEqual({ experiment: 'career_model_ab', format: 'table', since: undefined, client: undefined, database: undefined });
  });

  it('takes every option', () => {
    expect(parseReportArgs(['x', '--format', 'csv', '--since', '2026-11-01', '--client', 'rails', '--database', 'data/a.sqlite'])).toEqual({
      experiment: 'x',
      format: 'csv',
      since: '2026-11-01',
      client: 'rails',
      database: 'data/a.sqlite',
    });
  });

  it.each([
    [[], /name the experiment/],
    [['a', 'b'], /one experiment at a time/],
    [['a', '--format', 'xml'], /--format must be one of table, csv, json/],
    [['a', '--colour'], /Unknown option/],
  ])('refuses %j with the usage line', (argv, why) => {
    expect(() => parseReportArgs(argv)).toThrow(why);
    expect(() => parseReportArgs(argv)).toThrow(/Usage: npm run report -- <experiment-id>/);
  });
});

describe('chooseStore', () => {
  const both = [
    { path: './data/gateway.sqlite', mtimeMs: 1000 },
    { path: './data/demo.sqlite', mtimeMs: 2000 },
  ];

  it('prefers --database, then DATABASE_URL', () => {
    expect(chooseStore('a.sqlite', 'b.sqlite', both)).toEqual({ url: 'a.sqlite', source: '--database' });
    expect(chooseStore(undefined, 'b.sqlite', both)).toEqual({ url: 'b.sqlite', source: 'DATABASE_URL' });
  });

  it('otherwise reads the local store modified last', () => {
    expect(chooseStore(undefined, undefined, both)).toEqual({ url: './data/demo.sqlite', source: 'newest local store' });
    expect(chooseStore(undefined, '', [both[0]!, { path: './data/demo.sqlite', mtimeMs: null }])?.url).toBe('./data/gateway.sqlite');
  });

  it('answers null when there is no store', () => {
    expect(chooseStore(undefined, undefined, [{ path: './data/gateway.sqlite', mtimeMs: null }])).toBeNull();
  });
});
