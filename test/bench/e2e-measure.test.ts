import { describe, expect, it } from 'vitest';
import { stampArea, writeStamp } from '../../src/helper/capture/frame-stamp.js';
import {
  DisplayLog,
  latencyMs,
  percentileOf,
  readStampRgba,
  STAMP_MODULUS_US,
  stampWallUs,
  summarize,
} from '../../bench/e2e/measure.js';

/** A stamped BGRX screen turned into what a canvas gives back: RGBA, alpha 255, optional noise. */
function canvasPixels(
  width: number,
  height: number,
  frame: number,
  wallMs: number,
  noise = 0,
): Uint8ClampedArray {
  const bgra = new Uint8Array(width * height * 4).fill(90);
  writeStamp(bgra, width, width * 4, { frame, timestampUs: stampWallUs(wallMs) });
  const rgba = new Uint8ClampedArray(bgra.length);
  let seed = 7;
  for (let i = 0; i < bgra.length; i += 4) {
    for (const [to, from] of [
      [0, 2],
      [1, 1],
      [2, 0],
    ] as const) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      rgba[i + to] = (bgra[i + from] ?? 0) + ((seed >>> 16) % (2 * noise + 1)) - noise;
    }
    rgba[i + 3] = 255;
  }
  return rgba;
}

describe('time-in-pixels decoding from a canvas', () => {
  it('reads back the frame number and wall time written by the painter', () => {
    const wall = 1_795_431_605_168.4;
    const px = canvasPixels(1280, 64, 4242, wall);
    const stamp = readStampRgba(px, 1280, 64);
    expect(stamp?.frame).toBe(4242);
    expect(latencyMs(stamp!.timestampUs, wall + 37.5)).toBeCloseTo(37.5, 3);
  });

  it('survives compression-like noise of ±40 per channel', () => {
    const wall = 1_800_000_000_000;
    const stamp = readStampRgba(canvasPixels(512, 48, 9, wall, 40), 512, 48);
    expect(stamp?.frame).toBe(9);
  });

  it('rejects a picture without a stamp, and a stamp with one block flipped', () => {
    expect(readStampRgba(new Uint8ClampedArray(512 * 48 * 4).fill(255), 512, 48)).toBeNull();
    const px = canvasPixels(512, 48, 77, 1_800_000_000_000);
    const b = stampArea(512).height / 3;
    // Invert the block of bit 5 in row 1 (the timestamp's low word).
    for (let y = b; y < 2 * b; y++)
      for (let x = 5 * b; x < 6 * b; x++)
        for (let c = 0; c < 3; c++) px[(y * 512 + x) * 4 + c] = 255 - px[(y * 512 + x) * 4 + c]!;
    expect(readStampRgba(px, 512, 48)).toBeNull();
  });

  it('reads only from the top-left stamp area, whatever the rest shows', () => {
    const area = stampArea(1920);
    const px = canvasPixels(area.width, area.height, 1, 1_800_000_000_000);
    expect(readStampRgba(px, area.width, area.height)?.frame).toBe(1);
  });
});

describe('latency across the 48-bit wrap of the stamp', () => {
  it('measures across the point where the stamp time wraps to zero', () => {
    const wrapWallMs = (Math.ceil(1.8e15 / STAMP_MODULUS_US) * STAMP_MODULUS_US) / 1000;
    const stamp = stampWallUs(wrapWallMs - 0.01); // 10 µs before the wrap
    expect(stamp).toBeGreaterThan(STAMP_MODULUS_US - 100);
    expect(latencyMs(stamp, wrapWallMs + 20)).toBeCloseTo(20.01, 3);
  });

  it('reports a stamp from the future as a negative latency, not as years', () => {
    const wall = 1_800_000_000_000;
    expect(latencyMs(stampWallUs(wall + 5), wall)).toBeCloseTo(-5, 3);
  });
});

describe('aggregation', () => {
  it('takes nearest-rank percentiles', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentileOf(v, 50)).toBe(50);
    expect(percentileOf(v, 95)).toBe(95);
    expect(percentileOf([], 50)).toBeNaN();
    expect(summarize([30, 10, 20])).toEqual({ n: 3, median: 20, p95: 30, min: 10, max: 30 });
  });

  it('counts each displayed frame once, at the first time it was seen', () => {
    const log = new DisplayLog();
    const t = 1_800_000_000_000;
    const stamp = (frame: number, at: number) => ({ frame, timestampUs: stampWallUs(at) });
    expect(log.record(stamp(1, t), t + 30)).toBe(true);
    expect(log.record(stamp(1, t), t + 46)).toBe(false); // the same frame polled again
    expect(log.record(null, t + 50)).toBe(false);
    expect(log.record(stamp(3, t + 33), t + 60)).toBe(true); // frame 2 never shown
    const s = log.snapshot();
    expect(s.frames).toBe(2);
    expect(s.unreadable).toBe(1);
    expect(s.latencies.map((l) => Math.round(l))).toEqual([30, 27]);
    expect(log.fps(0.5)).toBe(4);
    expect(s.arrivals).toEqual([]);
  });

  it('times arrivals only for frames it counts', () => {
    const log = new DisplayLog();
    const t = 1_800_000_000_000;
    const stamp = (frame: number, at: number) => ({ frame, timestampUs: stampWallUs(at) });
    log.record(stamp(1, t), t + 30, t + 12);
    log.record(stamp(1, t), t + 46, t + 40); // a repeat: neither latency nor arrival
    log.record(stamp(2, t + 16), t + 50, t + 27);
    expect(log.snapshot().arrivals.map((l) => Math.round(l))).toEqual([12, 11]);
  });
});
