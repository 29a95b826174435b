import { describe, expect, it } from 'vitest';
import { BitrateController } from '../../../src/helper/pipeline/bitrate-controller.js';

const clean = { fractionLost: 0, jitterMs: 2, rttMs: 20, estimatedBitrate: undefined };

describe('BitrateController', () => {
  it('lowers the bitrate at once on heavy loss, harder the worse it is', () => {
    const c = new BitrateController({ targetBps: 4_000_000 });
    expect(c.onReport({ ...clean, fractionLost: 0.1 }, 0)).toBe(3_000_000);
    expect(c.onReport({ ...clean, fractionLost: 0.3 }, 2_500)).toBe(1_500_000);
  });

  it('holds between changes', () => {
    const c = new BitrateController({ targetBps: 4_000_000, holdMs: 2_000 });
    c.onReport({ ...clean, fractionLost: 0.1 }, 0);
    expect(c.onReport({ ...clean, fractionLost: 0.1 }, 1_000)).toBeUndefined();
  });

  it('never goes below the floor', () => {
    const c = new BitrateController({ targetBps: 1_000_000, minBps: 400_000 });
    for (let t = 0; t < 20_000; t += 2_000) c.onReport({ ...clean, fractionLost: 0.5 }, t);
    expect(c.bitrate).toBe(400_000);
  });

  it('raises slowly back to the target after a clean stretch, never above it', () => {
    const c = new BitrateController({ targetBps: 2_000_000, raiseAfterMs: 8_000 });
    c.onReport({ ...clean, fractionLost: 0.3 }, 0); // → 1 Mb/s
    expect(c.onReport(clean, 4_000)).toBeUndefined(); // clean, but not for long enough
    let t = 4_000;
    while (c.bitrate < 2_000_000 && t < 200_000) {
      t += 1_000;
      c.onReport(clean, t);
    }
    expect(c.bitrate).toBe(2_000_000);
    expect(t).toBeGreaterThan(12_000);
  });

  it('treats a sharp rise in round-trip time as congestion', () => {
    const c = new BitrateController({ targetBps: 2_000_000 });
    c.onReport(clean, 0);
    expect(c.onReport({ ...clean, rttMs: 400 }, 3_000)).toBe(1_500_000);
  });

  it('does not follow a low receiver estimate taken while the screen was still', () => {
    const c = new BitrateController({ targetBps: 4_000_000 });
    expect(c.onReport({ ...clean, estimatedBitrate: 300_000 }, 0)).toBeUndefined();
    expect(c.bitrate).toBe(4_000_000);
  });
});
