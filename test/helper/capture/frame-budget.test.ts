import { describe, expect, it } from 'vitest';
import { FrameBudget } from '../../../src/helper/capture/frame-budget.js';

describe('FrameBudget', () => {
  it('budgets frames: a burst of two, then the target rate on average', () => {
    const b = new FrameBudget(50); // 20 ms a frame
    expect(b.intervalMs).toBe(20);
    const t = performance.now();
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
});
