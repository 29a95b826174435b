/**
 * Small hand-written guards for every message that crosses a trust boundary. Each guard either
 * returns a value of the right type or throws a ProtocolError naming the offending field by its
 * path (e.g. `offer.sdp`, `iceServers[1].urls`). See design/PROTOCOL.md for why no schema library.
 */

import { FieldError } from '../errors/porthole-error.js';

/**
 * A message that failed validation (code `bad_request`); `field` is the dotted path of the first bad
 * field, `reason` what was wrong with it.
 */
export class ProtocolError extends FieldError {
  override name = 'ProtocolError';
}

export type Guard<T> = (value: unknown, path: string) => T;

export function fail(path: string, reason: string): never {
  throw new ProtocolError(path, reason);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

export const str =
  (opts: { min?: number; max: number; pattern?: RegExp }): Guard<string> =>
  (v, path) => {
    if (typeof v !== 'string') fail(path, `expected a string, got ${describe(v)}`);
    if (v.length < (opts.min ?? 0)) fail(path, `must have at least ${opts.min ?? 0} characters`);
    if (v.length > opts.max) fail(path, `must have at most ${opts.max} characters`);
    if (opts.pattern && !opts.pattern.test(v)) fail(path, `does not match ${String(opts.pattern)}`);
    return v;
  };

export const int =
  (min: number, max: number): Guard<number> =>
  (v, path) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) fail(path, `expected an integer, got ${describe(v)}`);
    if (v < min || v > max) fail(path, `must be between ${min} and ${max}, got ${v}`);
    return v;
  };

export const num =
  (min: number, max: number): Guard<number> =>
  (v, path) => {
    if (typeof v !== 'number' || !Number.isFinite(v))
      fail(path, `expected a finite number, got ${describe(v)}`);
    if (v < min || v > max) fail(path, `must be between ${min} and ${max}, got ${v}`);
    return v;
  };

export const bool: Guard<boolean> = (v, path) => {
  if (typeof v !== 'boolean') fail(path, `expected a boolean, got ${describe(v)}`);
  return v;
};

export const oneOf =
  <const T extends readonly string[]>(values: T): Guard<T[number]> =>
  (v, path) => {
    if (typeof v !== 'string' || !values.includes(v)) fail(path, `must be one of ${values.join('|')}`);
    return v as T[number];
  };

export const literal =
  <const T extends string>(value: T): Guard<T> =>
  (v, path) => {
    if (v !== value) fail(path, `must be '${value}'`);
    return value;
  };

export const arrayOf =
  <T>(item: Guard<T>, opts: { min?: number; max: number }): Guard<T[]> =>
  (v, path) => {
    if (!Array.isArray(v)) fail(path, `expected an array, got ${describe(v)}`);
    if (v.length < (opts.min ?? 0)) fail(path, `must have at least ${opts.min ?? 0} items`);
    if (v.length > opts.max) fail(path, `must have at most ${opts.max} items`);
    return v.map((x, i) => item(x, join(path, i)));
  };

/** Marks a field as optional: absent (or undefined) passes as undefined. */
export interface OptionalGuard<T> {
  optional: true;
  guard: Guard<T>;
}
export const optional = <T>(guard: Guard<T>): OptionalGuard<T> => ({ optional: true, guard });

type Shape = Record<string, Guard<unknown> | OptionalGuard<unknown>>;
type ShapeType<S extends Shape> = {
  [K in keyof S as S[K] extends OptionalGuard<unknown> ? never : K]: S[K] extends Guard<infer T> ? T : never;
} & {
  [K in keyof S as S[K] extends OptionalGuard<unknown> ? K : never]?: S[K] extends OptionalGuard<infer T>
    ? T
    : never;
};

/**
 * An object with exactly these fields. Unknown fields are rejected (fail closed): a peer that sends
 * more than the protocol knows is either newer or hostile, and both should hear about it.
 */
export const object =
  <S extends Shape>(shape: S, opts: { allowExtra?: boolean } = {}): Guard<ShapeType<S>> =>
  (v, path) => {
    if (!isRecord(v)) fail(path, `expected an object, got ${describe(v)}`);
    const out: Record<string, unknown> = {};
    for (const [key, g] of Object.entries(shape)) {
      const value = v[key];
      if (typeof g === 'function') {
        if (value === undefined) fail(join(path, key), 'is required');
        out[key] = g(value, join(path, key));
      } else if (value !== undefined) {
        out[key] = g.guard(value, join(path, key));
      }
    }
    if (!opts.allowExtra) {
      for (const key of Object.keys(v)) {
        if (!Object.hasOwn(shape, key)) fail(join(path, key), 'is not a known field');
      }
    }
    return out as ShapeType<S>;
  };

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}
