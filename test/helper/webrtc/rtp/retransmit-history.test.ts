import { describe, expect, it } from 'vitest';
import { RetransmitHistory } from '../../../../src/helper/webrtc/rtp/retransmit-history.js';

const packet = (seq: number, size = 1000): Buffer => Buffer.alloc(size, seq & 0xff);

describe('RetransmitHistory', () => {
  const policy = { size: 8, maxAgeMs: 1000, budgetShare: 0.5, budgetWindowMs: 250 };

  it('resends what it keeps, and counts what is gone: overwritten, never sent or too old', () => {
    const h = new RetransmitHistory(policy);
    for (let seq = 0; seq < 10; seq++) h.remember(seq, packet(seq), 0);
    // 0 and 1 were overwritten by 8 and 9 (8 slots); 20 was never sent.
    const r = h.take([0, 1, 8, 9, 20], 10, 10_000_000, 50);
    expect(r.packets.map((p) => p[0])).toEqual([8, 9]);
    expect(r.gone).toBe(3);
    expect(h.take([7], 1011, 10_000_000, 50)).toEqual({ packets: [], gone: 1 });
  });

  it('does not resend the same packet twice within a round trip', () => {
    const h = new RetransmitHistory(policy);
    h.remember(5, packet(5), 0);
    expect(h.take([5], 10, 10_000_000, 100).packets).toHaveLength(1);
    expect(h.take([5], 50, 10_000_000, 100).packets).toHaveLength(0);
    expect(h.counters.skipped).toBe(1);
    expect(h.take([5], 95, 10_000_000, 100).packets).toHaveLength(1);
  });

  it('keeps retransmissions within half the bitrate: a NACK storm gets the budget, no more', () => {
    const h = new RetransmitHistory({ ...policy, size: 1024 });
    for (let seq = 0; seq < 1000; seq++) h.remember(seq, packet(seq), 0);
    // 2 Mb/s: budget 1 Mb/s = 125 B/ms, burst 250 ms = 31 250 B → 31 packets of 1000 B.
    const all = Array.from({ length: 1000 }, (_, i) => i);
    expect(h.take(all, 1, 2_000_000, 50).packets).toHaveLength(31);
    expect(h.counters.overBudget).toBe(969);
    // 100 ms later: 12 500 B more.
    expect(h.take(all.slice(500), 101, 2_000_000, 50).packets).toHaveLength(12);
  });

  it('refuses a size that is not a power of two', () => {
    expect(() => new RetransmitHistory({ ...policy, size: 1000 })).toThrow(RangeError);
  });
});
