// CF_UNICODETEXT decoding bounded by the memory object's size (GlobalSize) and encoding with CR-LF
// line ends; the Win32 calls around them run under Wine (test/win32/desktop-input.test.ts).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeUnicodeText, encodeUnicodeText } from '../../../src/helper/input/clipboard-text.js';

const utf16 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf16le'));

describe('decodeUnicodeText (CF_UNICODETEXT within GlobalSize)', () => {
  test('stops at the first NUL', () => {
    expect(decodeUnicodeText(utf16('héllo\0garbage after the terminator'))).toBe('héllo');
  });

  test('without a NUL, stops at the end of the block instead of reading past it', () => {
    const block = utf16('no terminator');
    // The bytes after the block, which a read to the first NUL would have taken.
    const memory = new Uint8Array([...block, ...utf16('NEXT ALLOCATION')]);
    expect(decodeUnicodeText(memory.subarray(0, block.length))).toBe('no terminator');
  });

  test('ignores an odd trailing byte and reads an empty block as empty', () => {
    expect(decodeUnicodeText(new Uint8Array([0x41, 0x00, 0x42]))).toBe('A');
    expect(decodeUnicodeText(new Uint8Array(0))).toBe('');
    expect(decodeUnicodeText(new Uint8Array([0x41]))).toBe('');
  });

  test('is cut at maxChars, never between the halves of a surrogate pair', () => {
    expect(decodeUnicodeText(utf16('abcdef\0'), 3)).toBe('abc');
    expect(decodeUnicodeText(utf16('ab😀cd'), 3)).toBe('ab');
    expect(decodeUnicodeText(utf16('ab😀cd'), 4)).toBe('ab😀');
    expect(decodeUnicodeText(utf16('abc\0'), 3)).toBe('abc');
  });

  test('reads a block at an offset inside a larger buffer', () => {
    const big = new Uint8Array(64);
    big.set(utf16('xy\0'), 10);
    expect(decodeUnicodeText(big.subarray(10, 16))).toBe('xy');
  });

  test('never returns more than the block holds, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), fc.nat(200), (bytes, max) => {
        const text = decodeUnicodeText(bytes, max);
        expect(text.length).toBeLessThanOrEqual(Math.min(Math.floor(bytes.length / 2), max));
        expect(text.includes('\0')).toBe(false);
      }),
    );
  });
});

describe('encodeUnicodeText', () => {
  test('UTF-16LE with a terminating NUL', () => {
    expect(encodeUnicodeText('A€')).toEqual(Buffer.from([0x41, 0x00, 0xac, 0x20, 0x00, 0x00]));
  });

  test('line ends become CR-LF, existing CR-LF stay as they are', () => {
    expect(decodeUnicodeText(encodeUnicodeText('a\nb\r\nc\n'))).toBe('a\r\nb\r\nc\r\n');
  });

  test('round-trips any text without NUL or line feeds', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        const text = s.replace(/[\0\n]/g, '');
        expect(decodeUnicodeText(encodeUnicodeText(text))).toBe(text);
      }),
    );
  });
});
