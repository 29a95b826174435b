// The platform-neutral parts of the Windows capturer and injector; their Win32 calls are tested under
// Wine (test/win32/desktop-*.test.ts).
import { describe, expect, test } from 'vitest';
import { copyChangedRows } from '../../../src/helper/capture/win32-gdi-capturer.js';
import { colorCursorToRgba, monochromeCursorToRgba } from '../../../src/helper/capture/win32-cursor.js';
import { toVirtualDeskUnits } from '../../../src/helper/input/win32-input-injector.js';

describe('GDI change detection (copyChangedRows)', () => {
  const width = 4;
  const height = 6;
  const stride = width * 4;

  test('reports every row on the first grab, none when nothing changed, and changed rows as bands', () => {
    const src = new Uint8Array(stride * height).fill(7);
    const dst = Buffer.alloc(stride * height);
    expect(copyChangedRows(src, dst, stride, width, height, true)).toEqual([{ x: 0, y: 0, width, height }]);
    expect(Buffer.compare(dst, Buffer.from(src))).toBe(0);
    expect(copyChangedRows(src, dst, stride, width, height, false)).toEqual([]);
    src[1 * stride + 3] = 1; // row 1
    src[2 * stride] = 1; // row 2
    src[5 * stride + stride - 1] = 1; // row 5, last byte
    expect(copyChangedRows(src, dst, stride, width, height, false)).toEqual([
      { x: 0, y: 1, width, height: 2 },
      { x: 0, y: 5, width, height: 1 },
    ]);
    expect(Buffer.compare(dst, Buffer.from(src))).toBe(0);
  });
});

describe('cursor shapes to straight RGBA', () => {
  test('a colour cursor with alpha keeps it and swaps B and R', () => {
    const bgra = new Uint8Array([10, 20, 30, 128, 0, 0, 0, 0]);
    const mask = new Uint8Array(8);
    expect(Array.from(colorCursorToRgba(bgra, mask, 2, 1))).toEqual([30, 20, 10, 128, 0, 0, 0, 0]);
  });

  test('a colour cursor without alpha takes transparency from the AND mask', () => {
    const bgra = new Uint8Array([10, 20, 30, 0, 40, 50, 60, 0]);
    const mask = new Uint8Array([255, 255, 255, 0, 0, 0, 0, 0]); // pixel 0 transparent
    expect(Array.from(colorCursorToRgba(bgra, mask, 2, 1))).toEqual([30, 20, 10, 0, 60, 50, 40, 255]);
  });

  test('a monochrome cursor: transparent, black, white, and inverted drawn black', () => {
    // AND half (4 pixels) then XOR half, as GetDIBits gives them: 0 or 255 per channel.
    const and = [1, 0, 0, 1];
    const xor = [0, 0, 1, 1];
    const px = (v: number): number[] => (v ? [255, 255, 255, 0] : [0, 0, 0, 0]);
    const bits = new Uint8Array([...and, ...xor].flatMap(px));
    expect(Array.from(monochromeCursorToRgba(bits, 4, 1))).toEqual([
      0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 0, 0, 0, 255,
    ]);
  });
});

describe('SendInput absolute coordinates', () => {
  test('clamps to 0..65535 and maps the last pixel to 65535', () => {
    const v = { x: -1280, y: 0, width: 2560, height: 1024 };
    expect(toVirtualDeskUnits(-1280, 0, v)).toEqual({ dx: 0, dy: 0 });
    expect(toVirtualDeskUnits(1279, 1023, v)).toEqual({ dx: 65535, dy: 65535 });
    expect(toVirtualDeskUnits(5000, -5, v)).toEqual({ dx: 65535, dy: 0 });
  });
});
