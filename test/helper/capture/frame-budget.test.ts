import { describe, expect, it } from 'vitest';
import { FrameBudget } from '../../../src/helper/capture/frame-budget.js';

describe('FrameBudget', () => {
  it('budgets frames: a burst of two, then the target rate on average', () => {
    const t = 5_000;
    const b = new FrameBudget(50, () => t); // 20 ms a frame
    expect(b.intervalMs).toBe(20);
    expect(b.delayMs(t)).toBe(0);
    b.take(t);
    expect(b.delayMs(t)).toBe(0); // the second of a burst
    b.take(t);
    expect(b.delayMs(t)).toBeCloseTo(20, 5);
    expect(b.delayMs(t + 10)).toBeCloseTo(10, 5);
    expect(b.delayMs(t + 20)).toBe(0);
    b.take(t + 20);
    expect(b.delayMs(t + 20)).toBeCloseTo(20, 5);
    // A long pause refills only up to the burst.
    expect(b.delayMs(t + 10_000)).toBe(0);
    b.take(t + 10_000);
    b.take(t + 10_000);
    expect(b.delayMs(t + 10_000)).toBeGreaterThan(0);
  });

  it('says a frame is due exactly when its token has refilled, at any clock reading', () => {
    // At these readings float refills left ~3e-14 ms to wait at t + 20: the loop slept for nothing.
    for (const t of [0, 20.434, 51.219, 62.099, 8180.336]) {
      const b = new FrameBudget(50, () => t);
      b.take(t);
      b.take(t);
      expect(b.delayMs(t + 5)).toBeGreaterThan(0);
      expect(b.delayMs(t + 20)).toBe(0);
    }
  });
});
