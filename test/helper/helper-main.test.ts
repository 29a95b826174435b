import { describe, expect, it } from 'vitest';
import { PortholeError } from '../../src/errors/porthole-error.js';
import { desktopStartError } from '../../src/helper/helper-main.js';
import { errorBodyOf } from '../../src/ipc/envelope.js';
import { ProtocolError } from '../../src/protocol/validate.js';

describe('desktopStartError', () => {
  it('keeps the code and retryAfterMs of a capacity refusal on its way over the pipe', () => {
    const full = new PortholeError('too_many_viewers', 'this session already serves 8 desktops', {
      retryAfterMs: 20_000,
    });
    expect(errorBodyOf(desktopStartError(full))).toEqual({
      code: 'too_many_viewers',
      message: 'this session already serves 8 desktops',
      retryAfterMs: 20_000,
    });
  });

  it('keeps a viewer mistake’s code and answers anything else internal, with its message', () => {
    expect(errorBodyOf(desktopStartError(new ProtocolError('displayIndex', 'no display 3')))).toEqual({
      code: 'bad_request',
      message: 'displayIndex: no display 3',
    });
    expect(errorBodyOf(desktopStartError(new Error('capturer gone')))).toEqual({
      code: 'internal',
      message: 'capturer gone',
    });
  });
});
