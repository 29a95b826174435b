import { describe, expect, it } from 'vitest';
import { Backoff, FailureWindow } from '../../src/service/backoff.js';

describe('Backoff', () => {
  it('doubles up to the cap, each delay between half and all of its ceiling', () => {
    const low = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0 });
    const high = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 1 });
    expect(Array.from({ length: 6 }, () => low.next())).toEqual([50, 100, 200, 400, 500, 500]);
    expect(Array.from({ length: 6 }, () => high.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('starts over after reset', () => {
    const b = new Backoff({ baseMs: 100, maxMs: 30_000, random: () => 1 });
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(100);
  });
});

describe('FailureWindow', () => {
  it('reaches the cap only with N failures inside the window', () => {
    let now = 0;
    const w = new FailureWindow(3, 1000, () => now);
    expect(w.record()).toBe(false);
    now = 600;
    expect(w.record()).toBe(false);
    now = 1100; // the first failure has left the window
    expect(w.record()).toBe(false);
    now = 1200;
    expect(w.record()).toBe(true);
  });
});
