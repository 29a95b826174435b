import { describe, expect, it } from 'vitest';
import { checkFileName, numberedName } from '../../../src/helper/files/file-name.js';

describe('upload names', () => {
  it.each(['report.pdf', '.bashrc', 'ünïcode ✓.txt', 'a..b', 'CONSOLE.txt', 'COM10', 'con-notes.md'])(
    'keeps %s',
    (n) => {
      expect(checkFileName(n)).toBe(n);
    },
  );

  it.each([
    ['', /empty/],
    ['.', /folder/],
    ['..', /folder/],
    ['../x', /separator/],
    ['a/b', /separator/],
    ['a\\b', /separator/],
    ['CON', /device/],
    ['con', /device/],
    ['CON.txt', /device/],
    ['con .tar.gz', /device/],
    ['LPT1', /device/],
    ['COM¹.log', /device/],
    ['NUL.', /dot or a space/],
    ['a:b', /data stream/],
    ['file.txt:secret', /data stream/],
    ['name.', /dot or a space/],
    ['name ', /dot or a space/],
    ['a\u0000b', /control/],
    ['tab\there', /control/],
    ['a?b', /< >/],
    ['x'.repeat(256), /255 bytes/],
    ['é'.repeat(128), /255 bytes/],
  ])('refuses %j', (n, why) => {
    expect(() => checkFileName(n)).toThrow(why);
    try {
      checkFileName(n);
    } catch (err) {
      expect((err as { code: string }).code).toBe('bad_name');
    }
  });

  it('stores names in NFC', () => {
    expect(checkFileName('e\u0301.txt')).toBe('\u00e9.txt');
  });

  it('numbers a name that exists before its extension', () => {
    expect(numberedName('report.pdf', 0)).toBe('report.pdf');
    expect(numberedName('report.pdf', 1)).toBe('report (1).pdf');
    expect(numberedName('a.tar.gz', 2)).toBe('a.tar (2).gz');
    expect(numberedName('.bashrc', 1)).toBe('.bashrc (1)');
    expect(numberedName('noext', 12)).toBe('noext (12)');
  });

  it('keeps a numbered name within 255 bytes by shortening the stem', () => {
    const long = `${'é'.repeat(125)}.txt`; // 254 bytes
    const n = numberedName(long, 7);
    expect(Buffer.byteLength(n)).toBeLessThanOrEqual(255);
    expect(n.endsWith(' (7).txt')).toBe(true);
  });
});
