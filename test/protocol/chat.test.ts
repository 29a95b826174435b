import { describe, expect, it } from 'vitest';
import { chatLine, MAX_CHAT_TEXT, parseChatFromHelper, parseChatMessage } from '../../src/protocol/chat.js';
import { parseDataChannelText, parseHelperToViewer } from '../../src/protocol/datachannel.js';

const parse = (text: string) => parseDataChannelText(text, parseChatMessage);

describe('chat messages (viewer → helper)', () => {
  it('accepts one line of text up to the bound', () => {
    expect(parse('{"type":"message","text":"hello, can you see my pointer?"}')).toEqual({
      type: 'message',
      text: 'hello, can you see my pointer?',
    });
    const long = 'é'.repeat(MAX_CHAT_TEXT);
    expect(parse(JSON.stringify({ type: 'message', text: long })).text).toBe(long);
  });

  it.each([
    ['an empty text', { type: 'message', text: '' }, /text: must have at least 1/],
    ['a blank text', { type: 'message', text: '   ' }, /text: must not be blank/],
    [
      'a text over the bound',
      { type: 'message', text: 'a'.repeat(MAX_CHAT_TEXT + 1) },
      /text: must have at most/,
    ],
    [
      'a line break (a forged line in the session window)',
      { type: 'message', text: 'ok\nadmin: fine' },
      /control/,
    ],
    ['a bidi override', { type: 'message', text: 'abc\u202edef' }, /control or format/],
    ['a line separator', { type: 'message', text: 'a\u2028b' }, /control or format/],
    ['half a surrogate pair (not text)', { type: 'message', text: 'a\ud800b' }, /control or format/],
    ['a lone low surrogate', { type: 'message', text: '\udc00' }, /control or format/],
    ['an unknown field', { type: 'message', text: 'hi', from: 'admin' }, /from: is not a known field/],
    ['a helper-only type', { type: 'error', code: 'unavailable', message: 'x' }, /type/],
    ['a number as text', { type: 'message', text: 5 }, /text: expected a string/],
  ])('refuses %s', (_what, v, err) => {
    expect(() => parse(JSON.stringify(v))).toThrow(err);
  });

  it('refuses text that is not JSON or is too large before parsing', () => {
    expect(() => parse('{"type":')).toThrow(/not valid JSON/);
    expect(() => parse('x'.repeat(300_000))).toThrow(/longer than/);
  });
});

describe('chat messages (helper → viewer)', () => {
  it('accepts a line and the two notices, nothing else', () => {
    expect(parseChatFromHelper({ type: 'message', text: 'yes' })).toEqual({ type: 'message', text: 'yes' });
    expect(parseChatFromHelper({ type: 'error', code: 'rate_limited', message: 'slow down' })).toMatchObject({
      code: 'rate_limited',
    });
    expect(() => parseChatFromHelper({ type: 'error', code: 'boom', message: '' })).toThrow(/code/);
    expect(() => parseChatFromHelper({ type: 'displays', displays: [], current: 0 })).toThrow(/type/);
  });
});

describe('chatLine: typed text as a valid line', () => {
  it('turns control and format characters into spaces, trims, bounds, and never splits a pair', () => {
    expect(chatLine('  a\n\tb\u202ec  ')).toBe('a b c');
    expect(chatLine(' \u0007 ')).toBeUndefined();
    expect(chatLine('a\ud800b')).toBe('a b');
    expect(chatLine('ok 😀')).toBe('ok 😀');
    const cut = chatLine(`${'a'.repeat(MAX_CHAT_TEXT - 1)}😀`)!;
    expect(cut).toBe('a'.repeat(MAX_CHAT_TEXT - 1));
    expect(() => parseChatMessage({ type: 'message', text: cut })).not.toThrow();
  });
});

describe('ended (helper → viewer on control)', () => {
  it('says the person at the machine ended the desktop', () => {
    expect(parseHelperToViewer({ type: 'ended', reason: 'user' })).toEqual({ type: 'ended', reason: 'user' });
    expect(() => parseHelperToViewer({ type: 'ended', reason: 'bored' })).toThrow(/reason/);
  });
});
