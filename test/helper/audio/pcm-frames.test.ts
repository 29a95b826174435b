import { describe, expect, it } from 'vitest';
import { FRAME_BYTES, PcmFramer } from '../../../src/helper/audio/pcm-frames.js';

/** n bytes whose value is their index in the stream (mod 256), to check nothing is lost or reordered. */
const stream = (from: number, n: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (from + i) % 256));

describe('PcmFramer', () => {
  it('cuts pieces of any size into whole 20 ms frames, keeping the remainder for the next piece', () => {
    const f = new PcmFramer();
    const out = [
      ...f.push(stream(0, 1000), 1_000_000),
      ...f.push(stream(1000, 5000), 1_020_000),
      ...f.push(stream(6000, 1680), 1_030_000),
    ];
    expect(out).toHaveLength(2);
    expect(Buffer.concat(out.map((c) => c.data))).toEqual(stream(0, 2 * FRAME_BYTES));
  });

  it('stamps frames on the capture clock: the first from its arrival minus its duration, then +20 ms each', () => {
    const f = new PcmFramer();
    // Two frames arrive at once at t = 1 s: they were captured over the 40 ms before.
    const first = f.push(Buffer.alloc(2 * FRAME_BYTES), 1_000_000);
    expect(first.map((c) => c.timestampUs)).toEqual([960_000, 980_000]);
    // A late delivery (scheduling jitter under the resync bound) does not move the clock.
    const next = f.push(Buffer.alloc(FRAME_BYTES), 1_050_000);
    expect(next.map((c) => c.timestampUs)).toEqual([1_000_000]);
  });

  it('sets the clock again after a gap longer than the resync bound (a paused monitor)', () => {
    const f = new PcmFramer(200_000);
    f.push(Buffer.alloc(FRAME_BYTES), 1_000_000);
    const after = f.push(Buffer.alloc(FRAME_BYTES), 2_000_000);
    expect(after[0]!.timestampUs).toBe(1_980_000);
  });
});
