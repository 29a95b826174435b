import { describe, expect, it } from 'vitest';
import { parseHelperToViewer, type CursorShape } from '../../src/protocol/datachannel.js';
import { CursorCache, decodeCursorShape } from '../../src/viewer/cursor-pixels.js';

function shape(serial: number, width: number, height: number): CursorShape {
  const bytes = Uint8Array.from({ length: width * height * 4 }, (_, i) => (i * 37 + serial) & 0xff);
  const rgba = btoa(String.fromCharCode(...bytes));
  return parseHelperToViewer({
    type: 'cursor_shape',
    serial,
    width,
    height,
    hotX: 1,
    hotY: 2,
    rgba,
  }) as CursorShape;
}

describe('cursor shapes', () => {
  it('decodes base64 RGBA into exactly width × height × 4 bytes', () => {
    const s = shape(7, 3, 4);
    const d = decodeCursorShape(s);
    expect(d.pixels).toHaveLength(48);
    expect(d.pixels[0]).toBe(7);
    expect(d.pixels[47]).toBe((47 * 37 + 7) & 0xff);
    expect({ hotX: d.hotX, hotY: d.hotY, width: d.width, height: d.height }).toEqual({
      hotX: 1,
      hotY: 2,
      width: 3,
      height: 4,
    });
  });

  it('throws when the pixels do not match the size', () => {
    expect(() => decodeCursorShape({ ...shape(1, 3, 3), width: 4 })).toThrow(/36 bytes for 4×3/);
  });

  it('keeps the most recently used shapes and evicts the oldest beyond its capacity', () => {
    const cache = new CursorCache<string>(2);
    cache.set(1, 'a');
    cache.set(2, 'b');
    expect(cache.get(1)).toBe('a'); // 1 is now the most recent
    cache.set(3, 'c');
    expect(cache.get(2)).toBeUndefined();
    expect(cache.get(1)).toBe('a');
    expect(cache.get(3)).toBe('c');
    expect(cache.size).toBe(2);
  });
});
