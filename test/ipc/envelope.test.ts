import { describe, expect, it } from 'vitest';
import { PortholeError } from '../../src/errors/porthole-error.js';
import { errorBodyOf, readErrorBody } from '../../src/ipc/envelope.js';
import { FrameError } from '../../src/ipc/errors.js';

describe('error-response bodies', () => {
  it('reads a capacity error with its retryAfterMs', () => {
    expect(readErrorBody({ code: 'busy', message: 'busy', retryAfterMs: 1000 })).toEqual({
      code: 'busy',
      message: 'busy',
      retryAfterMs: 1000,
    });
    expect(readErrorBody({ code: 'internal', message: 'x' })).toEqual({ code: 'internal', message: 'x' });
  });

  it.each([
    ['a negative retryAfterMs', { code: 'busy', message: 'm', retryAfterMs: -1 }],
    ['a fractional retryAfterMs', { code: 'busy', message: 'm', retryAfterMs: 1.5 }],
    ['a retryAfterMs over an hour', { code: 'busy', message: 'm', retryAfterMs: 3_600_001 }],
    ['a retryAfterMs that is a string', { code: 'busy', message: 'm', retryAfterMs: '5' }],
    ['an unknown field', { code: 'busy', message: 'm', extra: true }],
    ['an unknown code', { code: 'teapot', message: 'm' }],
  ])('refuses %s', (_what, body) => {
    expect(() => readErrorBody(body)).toThrow(FrameError);
  });

  it('answers a coded error with its code, message and whole-millisecond retryAfterMs, anything else as internal', () => {
    expect(errorBodyOf(new PortholeError('rate_limited', 'slow down', { retryAfterMs: 10.2 }))).toEqual({
      code: 'rate_limited',
      message: 'slow down',
      retryAfterMs: 11,
    });
    expect(errorBodyOf(new PortholeError('unsupported', 'not a reply code'))).toEqual({
      code: 'internal',
      message: 'internal error',
    });
    expect(errorBodyOf(new Error('secret detail'))).toEqual({ code: 'internal', message: 'internal error' });
  });
});
