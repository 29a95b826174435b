import { describe, expect, it } from 'vitest';
import {
  ProtocolError,
  arrayOf,
  int,
  num,
  object,
  oneOf,
  optional,
  str,
} from '../../src/protocol/validate.js';

function errorOf(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
  throw new Error('expected a ProtocolError');
}

describe('guards', () => {
  const shape = object({
    name: str({ max: 5 }),
    n: int(0, 10),
    tags: arrayOf(oneOf(['a', 'b']), { max: 2 }),
    ratio: optional(num(0, 1)),
  });

  it('accepts a valid object and drops nothing', () => {
    expect(shape({ name: 'ok', n: 3, tags: ['a'], ratio: 0.5 }, '')).toEqual({
      name: 'ok',
      n: 3,
      tags: ['a'],
      ratio: 0.5,
    });
  });

  it('names a missing field', () => {
    expect(errorOf(() => shape({ n: 1, tags: [] }, 'msg')).field).toBe('msg.name');
  });

  it('names an unknown field', () => {
    const err = errorOf(() => shape({ name: 'x', n: 1, tags: [], extra: 1 }, ''));
    expect(err.field).toBe('extra');
    expect(err.message).toMatch(/not a known field/);
  });

  it('names an out-of-range number with its bounds', () => {
    const err = errorOf(() => shape({ name: 'x', n: 11, tags: [] }, ''));
    expect(err.field).toBe('n');
    expect(err.message).toMatch(/between 0 and 10/);
  });

  it('names the array element that is wrong', () => {
    expect(errorOf(() => shape({ name: 'x', n: 1, tags: ['a', 'c'] }, '')).field).toBe('tags[1]');
  });

  it('rejects too-long strings and arrays', () => {
    expect(errorOf(() => shape({ name: 'toolong', n: 1, tags: [] }, '')).field).toBe('name');
    expect(errorOf(() => shape({ name: 'x', n: 1, tags: ['a', 'a', 'a'] }, '')).field).toBe('tags');
  });

  it('rejects non-integers, NaN and Infinity', () => {
    expect(() => int(0, 10)(1.5, 'n')).toThrow(ProtocolError);
    expect(() => num(0, 10)(Number.NaN, 'n')).toThrow(ProtocolError);
    expect(() => num(0, Infinity)(Infinity, 'n')).toThrow(ProtocolError);
  });

  it('treats an explicit undefined optional as absent, but rejects null', () => {
    expect(shape({ name: 'x', n: 1, tags: [], ratio: undefined }, '')).not.toHaveProperty('ratio');
    expect(errorOf(() => shape({ name: 'x', n: 1, tags: [], ratio: null }, '')).field).toBe('ratio');
  });

  it('does not let __proto__ keys through', () => {
    const evil = JSON.parse('{"name":"x","n":1,"tags":[],"__proto__":{"polluted":1}}') as unknown;
    expect(errorOf(() => shape(evil, '')).field).toBe('__proto__');
  });
});
