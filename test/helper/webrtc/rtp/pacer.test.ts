import { describe, expect, it } from 'vitest';
import { Pacer, type PacedItem } from '../../../../src/helper/webrtc/rtp/pacer.js';
import { FakeClock } from '../../../fixtures/fake-clock.js';

function setup(opts: { bitrate: number; maxQueueMs?: number }) {
  const clock = new FakeClock();
  const sent: { id: string; at: number }[] = [];
  let overflows = 0;
  const pacer = new Pacer({
    timers: clock,
    onOverflow: () => (overflows += 1),
    maxQueueMs: opts.maxQueueMs ?? 400,
  });
  pacer.setBitrate(opts.bitrate);
  const items = (prefix: string, n: number, bytes = 1000): PacedItem[] =>
    Array.from({ length: n }, (_, i) => ({
      bytes,
      send: () => sent.push({ id: `${prefix}${i}`, at: clock.now() }),
    }));
  return { clock, sent, pacer, items, overflows: () => overflows };
}

describe('Pacer', () => {
  it('sends a frame of ordinary size at once', () => {
    // 4 Mb/s × 2.5 = 1250 B/ms; a burst of 20 ms = 25 000 B.
    const { pacer, sent, items } = setup({ bitrate: 4_000_000 });
    pacer.push(items('p', 10));
    expect(sent).toHaveLength(10);
    expect(sent.every((s) => s.at === 0)).toBe(true);
  });

  it('spreads a keyframe over time at 2.5× the bitrate', async () => {
    // 1 Mb/s × 2.5 = 312.5 B/ms; burst 20 ms = 6250 B → 7 packets at once (the last one overdraws).
    const { pacer, sent, items, clock } = setup({ bitrate: 1_000_000 });
    pacer.push(items('k', 40));
    expect(sent).toHaveLength(7);
    await clock.advance(200);
    // 40 000 B at 312.5 B/ms leave in ~128 ms after the burst.
    expect(sent).toHaveLength(40);
    const last = sent.at(-1)!.at;
    expect(last).toBeGreaterThan(90);
    expect(last).toBeLessThan(130);
  });

  it('sends retransmissions before queued media', async () => {
    const { pacer, sent, items, clock } = setup({ bitrate: 1_000_000 });
    pacer.push(items('m', 20));
    pacer.push(items('r', 2), true);
    await clock.advance(500);
    const order = sent.map((s) => s.id);
    expect(order.indexOf('r0')).toBeLessThan(order.indexOf('m8'));
    expect(order).toHaveLength(22);
  });

  it('drops everything waiting when the queue would take longer than its limit, and says so', async () => {
    // 312.5 B/ms × 400 ms = 125 000 B of queue.
    const { pacer, sent, items, clock, overflows } = setup({ bitrate: 1_000_000 });
    pacer.push(items('a', 100));
    expect(overflows()).toBe(0);
    pacer.push(items('b', 40));
    expect(overflows()).toBe(1);
    expect(pacer.waitingBytes).toBe(0);
    await clock.advance(1000);
    expect(sent.some((s) => s.id.startsWith('b'))).toBe(false);
    expect(pacer.dropped).toBeGreaterThan(100);
  });

  it('leaves no timer behind when closed', () => {
    const { pacer, items, clock } = setup({ bitrate: 1_000_000 });
    pacer.push(items('x', 40));
    expect(clock.pending.length).toBe(1);
    pacer.close();
    expect(clock.pending.length).toBe(0);
    pacer.push(items('y', 1));
    expect(clock.pending.length).toBe(0);
  });
});
