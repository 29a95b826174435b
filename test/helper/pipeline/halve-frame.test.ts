/**
 * The 2×2 box filter behind lower resolution: exact means of known blocks, the 32-bit-word path equal
 * to the byte path on every byte of a noisy frame, odd sizes and padded rows.
 */
import { describe, expect, it } from 'vitest';
import type { RawFrame } from '../../../src/helper/encode/encoder.js';
import { halveFrame } from '../../../src/helper/pipeline/halve-frame.js';

/** A BGRA frame whose pixel (x, y) is `pixel(x, y)`, rows `pad` bytes longer than needed, at `offset`. */
function frame(
  width: number,
  height: number,
  pixel: (x: number, y: number) => [number, number, number, number],
  { pad = 0, offset = 0 } = {},
): RawFrame {
  const stride = width * 4 + pad;
  const data = new Uint8Array(offset + stride * height).subarray(offset);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(pixel(x, y), y * stride + x * 4);
  return { data, width, height, stride, format: 'BGRA', timestampUs: 42 };
}

const at = (f: RawFrame, x: number, y: number): number[] => [
  ...f.data.subarray(y * f.stride + x * 4, y * f.stride + x * 4 + 4),
];

describe('halveFrame', () => {
  it('gives each output pixel the mean of its 2×2 block, channel by channel, rounded down', () => {
    // Each channel gets its own pattern, extremes included: a carry between channels would show.
    const src = frame(64, 32, (x, y) => [
      (x + y) % 2 ? 255 : 0,
      x % 2 ? 255 : 254,
      y % 2 ? 1 : 2,
      (x * 7 + y * 13) & 0xff,
    ]);
    const out = halveFrame(src);
    expect([out.width, out.height, out.stride]).toEqual([32, 16, 128]);
    expect(out.timestampUs).toBe(42);
    expect(out.format).toBe('BGRA');
    for (const [x, y] of [
      [0, 0],
      [5, 3],
      [31, 15],
    ] as const) {
      const blocks = [
        [2 * x, 2 * y],
        [2 * x + 1, 2 * y],
        [2 * x, 2 * y + 1],
        [2 * x + 1, 2 * y + 1],
      ].map(([sx, sy]) => at(src, sx!, sy!));
      const mean = [0, 1, 2, 3].map((ch) => Math.floor(blocks.reduce((sum, p) => sum + p[ch]!, 0) / 4));
      expect(at(out, x, y)).toEqual(mean);
    }
    // The checkerboard channel averages to 127, the 254/255 one to 254, the 1/2 one to 1.
    expect(at(out, 3, 3).slice(0, 3)).toEqual([127, 254, 1]);
  });

  it('takes the word path and the byte path to the same bytes, on padded and unaligned rows', () => {
    let seed = 7;
    const noise = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    const pixels = Array.from({ length: 90 * 50 }, () => [noise(), noise(), noise(), noise()] as const);
    const pick = (x: number, y: number): [number, number, number, number] => [...pixels[y * 90 + x]!];
    const aligned = halveFrame(frame(90, 50, pick, { pad: 8 }));
    const unaligned = halveFrame(frame(90, 50, pick, { pad: 2, offset: 1 }));
    // 90×50 halves to 45×25, rounded down to even: 44×24.
    expect([aligned.width, aligned.height]).toEqual([44, 24]);
    expect(Buffer.from(unaligned.data).equals(Buffer.from(aligned.data))).toBe(true);
    expect(at(aligned, 43, 23)).toEqual(
      [0, 1, 2, 3].map((ch) =>
        Math.floor((pick(86, 46)[ch]! + pick(87, 46)[ch]! + pick(86, 47)[ch]! + pick(87, 47)[ch]!) / 4),
      ),
    );
  });
});
