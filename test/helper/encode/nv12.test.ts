import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { bgraToNv12, nv12Size } from '../../../src/helper/encode/nv12.js';

/** Deterministic noise: the worst case for a converter (every pixel differs from its neighbours). */
function noise(width: number, height: number, stride = width * 4, seed = 12345): Uint8Array {
  const out = new Uint8Array(stride * height);
  let s = seed;
  for (let i = 0; i < out.length; i++) out[i] = (s = (s * 1103515245 + 12345) & 0x7fffffff) & 255;
  return out;
}

/** ffmpeg's swscale as the reference: BGRA → yuv444p (BT.601 limited range, its default), per pixel. */
function ffmpegYuv444(bgra: Uint8Array, width: number, height: number): Buffer {
  return execFileSync(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'bgra'],
      ...['-s', `${width}x${height}`, '-i', 'pipe:0', '-sws_flags', 'bilinear+accurate_rnd'],
      ...['-pix_fmt', 'yuv444p', '-f', 'rawvideo', 'pipe:1'],
    ],
    { input: bgra },
  );
}

function px(b: number, g: number, r: number): Uint8Array {
  // A 2×2 frame of one colour.
  return new Uint8Array([b, g, r, 255, b, g, r, 255, b, g, r, 255, b, g, r, 255]);
}

describe('BGRA → NV12 (CPU)', () => {
  test('matches ffmpeg: Y within 1 of swscale per pixel, CbCr within 1 of the 2×2 mean of its per-pixel chroma', () => {
    const W = 96;
    const H = 64;
    const src = noise(W, H);
    const ref = ffmpegYuv444(src, W, H);
    const ours = bgraToNv12(src, W, H, W * 4);
    expect(ours.length).toBe(nv12Size(W, H));
    let maxY = 0;
    for (let i = 0; i < W * H; i++) maxY = Math.max(maxY, Math.abs(ref[i]! - ours[i]!));
    let maxC = 0;
    for (let y = 0; y < H; y += 2) {
      for (let x = 0; x < W; x += 2) {
        for (const c of [0, 1]) {
          const plane = W * H * (1 + c);
          const at = (yy: number, xx: number): number => ref[plane + yy * W + xx]!;
          const mean = (at(y, x) + at(y, x + 1) + at(y + 1, x) + at(y + 1, x + 1)) / 4;
          maxC = Math.max(maxC, Math.abs(mean - ours[W * H + (y / 2) * W + x + c]!));
        }
      }
    }
    expect(maxY).toBeLessThanOrEqual(1);
    expect(maxC).toBeLessThanOrEqual(1);
  });

  test('gives the limited-range BT.601 values of black, white and the primaries', () => {
    const yuv = (b: number, g: number, r: number): number[] => {
      const out = bgraToNv12(px(b, g, r), 2, 2, 8);
      return [out[0]!, out[4]!, out[5]!];
    };
    expect(yuv(0, 0, 0)).toEqual([16, 128, 128]);
    expect(yuv(255, 255, 255)).toEqual([235, 128, 128]);
    expect(yuv(0, 0, 255)).toEqual([81, 90, 240]); // red: 16 + 65.481 = 81.48
    expect(yuv(0, 255, 0)).toEqual([145, 54, 34]); // green
    expect(yuv(255, 0, 0)).toEqual([41, 240, 110]); // blue
  });

  test('reads rows `stride` bytes apart, aligned or not, and ignores the padding and the fourth byte', () => {
    const W = 8;
    const H = 4;
    const tight = noise(W, H);
    const padded = new Uint8Array((W * 4 + 24) * H).fill(0xee);
    for (let y = 0; y < H; y++) padded.set(tight.subarray(y * W * 4, (y + 1) * W * 4), y * (W * 4 + 24));
    const bgrx = Uint8Array.from(tight);
    for (let i = 3; i < bgrx.length; i += 4) bgrx[i] = 0;
    const expected = bgraToNv12(tight, W, H, W * 4);
    expect(bgraToNv12(padded, W, H, W * 4 + 24)).toEqual(expected);
    // Not 4-byte aligned (a view at an odd offset, a stride of 4n + 2): the rows are copied first.
    const odd = new Uint8Array(padded.length + 1).subarray(1);
    odd.set(padded);
    expect(bgraToNv12(odd, W, H, W * 4 + 24)).toEqual(expected);
    const uneven = new Uint8Array((W * 4 + 2) * H);
    for (let y = 0; y < H; y++) uneven.set(tight.subarray(y * W * 4, (y + 1) * W * 4), y * (W * 4 + 2));
    expect(bgraToNv12(uneven, W, H, W * 4 + 2)).toEqual(expected);
    expect(bgraToNv12(bgrx, W, H, W * 4)).toEqual(expected);
  });

  test('writes into a given buffer, and refuses odd sizes and short buffers', () => {
    const out = new Uint8Array(nv12Size(4, 2) + 3).fill(7);
    bgraToNv12(noise(4, 2), 4, 2, 16, out);
    expect(out.subarray(nv12Size(4, 2))).toEqual(new Uint8Array([7, 7, 7]));
    expect(() => bgraToNv12(noise(3, 2), 3, 2, 12)).toThrow(RangeError);
    expect(() => bgraToNv12(noise(4, 2), 4, 2, 8)).toThrow(/too small/);
    expect(() => bgraToNv12(noise(4, 2), 4, 2, 16, new Uint8Array(5))).toThrow(/too small/);
  });
});
