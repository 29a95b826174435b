import { describe, expect, test } from 'vitest';
import { compareEnvironmentNames, encodeEnvironmentBlock } from '../../../src/native/win32/userenv.js';

const names = (block: Buffer): string[] =>
  block
    .toString('utf16le')
    .split('\0')
    .filter((e) => e !== '')
    .map((e) => e.slice(0, e.indexOf('=', 1)));

describe('the environment block for CreateProcessAsUserW', () => {
  test('is sorted by name, case-insensitively, in Unicode order without regard to locale', () => {
    const vars = new Map(
      [
        '_X',
        'windir',
        'Path',
        'PATHEXT',
        'A_B',
        'AB',
        'a',
        'B',
        'PROCESSOR_LEVEL',
        'ProgramData',
        '=C:',
        'Ä',
      ].map((k) => [k, 'v'] as const),
    );
    // '_' is U+005F, after 'Z': localeCompare put "_X" first and "A_B" before "AB".
    expect(names(encodeEnvironmentBlock(vars))).toEqual([
      '=C:',
      'a',
      'AB',
      'A_B',
      'B',
      'Path',
      'PATHEXT',
      'PROCESSOR_LEVEL',
      'ProgramData',
      'windir',
      '_X',
      'Ä',
    ]);
  });

  test('differs from localeCompare where ICU and Windows disagree', () => {
    const sorted = (compare: (a: string, b: string) => number) => ['A_B', 'AB', '_X', 'Z'].sort(compare);
    expect(sorted((a, b) => a.toUpperCase().localeCompare(b.toUpperCase()))).not.toEqual(
      sorted(compareEnvironmentNames),
    );
    expect(sorted(compareEnvironmentNames)).toEqual(['AB', 'A_B', 'Z', '_X']);
  });

  test('compares one UTF-16 unit at a time: equal ignoring case, a prefix first, no full case folding', () => {
    expect(compareEnvironmentNames('path', 'PATH')).toBe(0);
    expect(compareEnvironmentNames('ä', 'Ä')).toBe(0);
    expect(compareEnvironmentNames('PATH', 'PATHEXT')).toBeLessThan(0);
    // 'ß' upper-cases to "SS" in JS; Windows' table maps unit to unit, so it stays after 'Z'.
    expect(compareEnvironmentNames('ß', 'SS')).toBeGreaterThan(0);
    // Astral characters compare by their surrogate units, as in the block.
    expect(compareEnvironmentNames('\u{1F600}', '\uFFFF')).toBeLessThan(0);
  });

  test('is NAME=value entries ending in an empty one', () => {
    const block = encodeEnvironmentBlock(
      new Map([
        ['B', '2'],
        ['a', '1'],
      ]),
    );
    expect(block.toString('utf16le')).toBe('a=1\0B=2\0\0');
  });
});
