import { describe, expect, test } from 'vitest';
import { growthPct, median, p99Steady, parseVmRssMb, valuesIn, windows } from './memory.ts';

describe('parseVmRssMb', () => {
  test('reads the VmRSS line of /proc/<pid>/status, in MB', () => {
    const status = 'Name:\tnode\nVmPeak:\t 1200000 kB\nVmRSS:\t  102400 kB\nRssAnon:\t 80000 kB\n';
    expect(parseVmRssMb(status)).toBe(100);
  });

  test('is null without a VmRSS line (a kernel thread, or not Linux)', () => {
    expect(parseVmRssMb('Name:\tkthreadd\n')).toBeNull();
  });
});

describe('median', () => {
  test.each([
    [[], NaN],
    [[3], 3],
    [[5, 1, 3], 3],
    [[4, 1, 3, 2], 2.5],
  ])('of %j is %d', (values, expected) => {
    expect(median(values)).toEqual(expected);
  });
});

describe('windows', () => {
  test('cuts a span into whole windows', () => {
    expect(windows(0, 180, 60)).toEqual([
      { from: 0, to: 60 },
      { from: 60, to: 120 },
      { from: 120, to: 180 },
    ]);
  });

  test('keeps a last window of at least half a window, drops a shorter one', () => {
    expect(windows(0, 150, 60)).toEqual([
      { from: 0, to: 60 },
      { from: 60, to: 120 },
      { from: 120, to: 150 },
    ]);
    expect(windows(0, 129, 60)).toEqual([
      { from: 0, to: 60 },
      { from: 60, to: 120 },
    ]);
  });

  test('a span shorter than a window is one window', () => {
    expect(windows(0, 10, 60)).toEqual([{ from: 0, to: 10 }]);
  });
});

describe('valuesIn', () => {
  test('groups values by the window their time falls in, start inclusive, end exclusive', () => {
    const wins = [
      { from: 0, to: 10 },
      { from: 10, to: 20 },
    ];
    expect(valuesIn(wins, [0, 5, 10, 19, 20, -1], [1, 2, 3, 4, 5, 6])).toEqual([[1, 2], [3, 4]]);
  });
});

describe('growthPct', () => {
  test.each([
    [100, 110, 10],
    [100, 90, -10],
    [80, 80, 0],
  ])('from %d to %d is %d%', (first, last, expected) => {
    expect(growthPct(first, last)).toBeCloseTo(expected, 10);
  });

  test('is NaN without a positive first value', () => {
    expect(growthPct(0, 10)).toBeNaN();
    expect(growthPct(NaN, 10)).toBeNaN();
    expect(growthPct(100, NaN)).toBeNaN();
  });
});

describe('p99Steady', () => {
  test.each([
    [4, 8, true], // within the 5 ms slack
    [4, 12, false],
    [40, 65, true], // 1.5 x 40 + 5
    [40, 66, false],
    [40, 20, true], // lower is steady
    [NaN, 20, false],
  ])('from %d ms to %d ms: %s', (first, last, expected) => {
    expect(p99Steady(first, last)).toBe(expected);
  });
});
