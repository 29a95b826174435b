import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { nalTypes, splitAccessUnits } from '../../../src/helper/encode/annexb.js';
import { cropNv12, psnr } from '../../../src/helper/encode/mf-decode.js';

describe('access units and decoded pictures', () => {
  test('splitAccessUnits cuts an x264 stream into one access unit per frame, SPS/PPS with the IDR', () => {
    const stream = execFileSync('ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x96:rate=30', '-frames:v', '12'],
      ...['-c:v', 'libx264', '-g', '5', '-bf', '0', '-pix_fmt', 'yuv420p', '-f', 'h264', 'pipe:1'],
    ]);
    const units = splitAccessUnits(stream);
    expect(units).toHaveLength(12);
    expect(Buffer.concat(units).length).toBeGreaterThanOrEqual(stream.length - 12);
    const first = nalTypes(units[0]!);
    expect(first.slice(0, 2)).toEqual([7, 8]);
    expect(first).toContain(5);
    expect(nalTypes(units[5]!)).toContain(5); // -g 5: the next IDR
    expect(units.slice(1, 5).every((u) => !nalTypes(u).includes(5))).toBe(true);
  });

  test('cropNv12 drops the rows a decoder pads to 16 (1080 → 1088; here 6 → 16), planes kept apart', () => {
    const w = 4;
    const padded = new Uint8Array(w * 16 * 1.5);
    for (let i = 0; i < w * 16; i++) padded[i] = i < w * 6 ? 1 : 9;
    for (let i = w * 16; i < padded.length; i++) padded[i] = i < w * 16 + w * 3 ? 2 : 9;
    const out = cropNv12(padded, w, 6);
    expect(Array.from(out)).toEqual([...Array<number>(w * 6).fill(1), ...Array<number>(w * 3).fill(2)]);
    expect(cropNv12(out, w, 6)).toBe(out);
    expect(() => cropNv12(new Uint8Array(7), w, 6)).toThrow(RangeError);
  });

  test('psnr', () => {
    expect(psnr(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(Infinity);
    expect(psnr(Uint8Array.of(0, 0), Uint8Array.of(255, 255))).toBe(0);
  });
});
