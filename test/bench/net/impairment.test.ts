import { describe, expect, it } from 'vitest';
import {
  ImpairedDirection,
  ReleaseQueue,
  seededRng,
  TokenBucket,
  type Impairment,
} from '../../../bench/net/impairment.js';
import { directionImpairment, PROFILES, tbfArgs, tbfLimitBytes } from '../../../bench/net/profiles.js';

const imp = (o: Partial<Impairment>): Impairment => ({ delayMs: 0, jitterMs: 0, loss: 0, reorder: 0, ...o });

/** Feeds `n` packets `gapMs` apart; returns each one's delay (NaN when dropped) in arrival order. */
function feed(dir: ImpairedDirection, n: number, gapMs: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const at = dir.admit(i * gapMs, 1200);
    out.push(at === undefined ? Number.NaN : at - i * gapMs);
  }
  return out;
}

describe('seededRng', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const a = seededRng(42);
    const b = seededRng(42);
    const c = seededRng(43);
    const sa = Array.from({ length: 50 }, a);
    expect(Array.from({ length: 50 }, b)).toEqual(sa);
    expect(Array.from({ length: 50 }, c)).not.toEqual(sa);
    expect(sa.every((v) => v >= 0 && v < 1)).toBe(true);
  });
});

describe('ImpairedDirection', () => {
  it('delays sparse packets uniformly within delay ± jitter, centred on the delay', () => {
    const dir = new ImpairedDirection(imp({ delayMs: 60, jitterMs: 20 }), seededRng(1));
    const d = feed(dir, 20_000, 100);
    const mean = d.reduce((s, v) => s + v, 0) / d.length;
    expect(Math.min(...d)).toBeGreaterThanOrEqual(40);
    expect(Math.max(...d)).toBeLessThanOrEqual(80);
    expect(Math.min(...d)).toBeLessThan(41);
    expect(Math.max(...d)).toBeGreaterThan(79);
    expect(mean).toBeGreaterThan(59.5);
    expect(mean).toBeLessThan(60.5);
    // Uniform: each quarter of the range holds about a quarter of the packets.
    const q = [0, 0, 0, 0];
    for (const v of d) q[Math.min(3, Math.floor((v - 40) / 10))]! += 1;
    for (const n of q) expect(n / d.length).toBeCloseTo(0.25, 1);
  });

  it('drops the stated share of packets', () => {
    const dir = new ImpairedDirection(imp({ loss: 0.03 }), seededRng(2));
    const d = feed(dir, 100_000, 1);
    const lost = d.filter(Number.isNaN).length / d.length;
    expect(lost).toBeGreaterThan(0.028);
    expect(lost).toBeLessThan(0.032);
    expect(dir.stats.lost).toBe(d.filter(Number.isNaN).length);
  });

  it('keeps dense packets in order when reordering is off, jitter or not', () => {
    const dir = new ImpairedDirection(imp({ delayMs: 60, jitterMs: 20 }), seededRng(3));
    let last = -Infinity;
    for (let i = 0; i < 10_000; i++) {
      const at = dir.admit(i * 0.5, 1200)!;
      expect(at).toBeGreaterThanOrEqual(last);
      last = at;
    }
  });

  it('lets about the stated share of packets overtake earlier ones', () => {
    const dir = new ImpairedDirection(imp({ delayMs: 60, jitterMs: 20, reorder: 0.01 }), seededRng(4));
    const times: number[] = [];
    for (let i = 0; i < 50_000; i++) times.push(dir.admit(i, 1200)!);
    let overtakers = 0;
    let latest = -Infinity;
    for (const t of times) {
      if (t < latest) overtakers += 1;
      latest = Math.max(latest, t);
    }
    expect(dir.stats.reordered / times.length).toBeGreaterThan(0.008);
    expect(dir.stats.reordered / times.length).toBeLessThan(0.012);
    // Packets 1 ms apart with ±20 ms jitter: almost every reordered packet overtakes someone.
    expect(overtakers).toBeGreaterThan(dir.stats.reordered * 0.9);
    expect(overtakers).toBeLessThanOrEqual(dir.stats.reordered);
  });

  it('drops everything during an outage and nothing from its end', () => {
    const dir = new ImpairedDirection(imp({ delayMs: 10 }), seededRng(5));
    dir.outage(2000);
    expect(dir.admit(0, 100)).toBeUndefined();
    expect(dir.admit(1999, 100)).toBeUndefined();
    expect(dir.admit(2000, 100)).toBe(2010);
    expect(dir.stats.outageDropped).toBe(2);
  });

  it('reproduces a run packet for packet from its seed', () => {
    const p = imp({ delayMs: 30, jitterMs: 10, loss: 0.05, reorder: 0.02 });
    const a = feed(new ImpairedDirection(p, seededRng(9)), 2000, 2);
    const b = feed(new ImpairedDirection(p, seededRng(9)), 2000, 2);
    const c = feed(new ImpairedDirection(p, seededRng(10)), 2000, 2);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('refuses numbers out of range', () => {
    expect(() => new ImpairedDirection(imp({ loss: 1.5 }), seededRng(1))).toThrow(/loss/);
    expect(() => new ImpairedDirection(imp({ delayMs: -1 }), seededRng(1))).toThrow(/delayMs/);
    expect(() => new ImpairedDirection(imp({ jitterMs: Number.NaN }), seededRng(1))).toThrow(/jitterMs/);
  });
});

describe('ReleaseQueue', () => {
  it('hands items out by release time, ties in arrival order', () => {
    const q = new ReleaseQueue<string>();
    q.push(30, 'c');
    q.push(10, 'a1');
    q.push(20, 'b');
    q.push(10, 'a2');
    expect(q.nextAt).toBe(10);
    expect(q.takeDue(15)).toEqual(['a1', 'a2']);
    expect(q.takeDue(100)).toEqual(['b', 'c']);
    expect(q.size).toBe(0);
  });
});

describe('TokenBucket (model of tbf)', () => {
  it('passes the burst at once after a pause, then paces at the rate', () => {
    const tb = new TokenBucket(1_000_000, 3000, 34_250);
    expect(tb.offer(0, 1500)).toBe(0);
    expect(tb.offer(0, 1500)).toBe(0);
    // The bucket is empty: the next 1500 bytes need 12 ms at 1 Mb/s.
    expect(tb.offer(0, 1500)).toBeCloseTo(12, 6);
    expect(tb.offer(0, 1500)).toBeCloseTo(24, 6);
  });

  it('under twice its rate carries the rate, drops the rest, and queues no longer than the latency and a burst', () => {
    const rate = PROFILES.thin.rate!;
    const tb = new TokenBucket(rate.bitsPerS, rate.burstBytes, tbfLimitBytes(rate));
    let sent = 0;
    let dropped = 0;
    let maxWait = 0;
    const gap = (1200 * 8 * 1000) / (2 * rate.bitsPerS); // 2 × the rate in 1200-byte packets
    for (let t = 0; t < 20_000; t += gap) {
      const leave = tb.offer(t, 1200);
      if (leave === undefined) dropped += 1;
      else {
        sent += 1200;
        maxWait = Math.max(maxWait, leave - t);
      }
    }
    const throughput = (sent * 8) / 20;
    expect(throughput / rate.bitsPerS).toBeGreaterThan(0.95);
    expect(throughput / rate.bitsPerS).toBeLessThan(1.1);
    expect(dropped).toBeGreaterThan(0);
    // A full queue is `limit` bytes: the latency plus the burst's worth at the rate.
    expect(maxWait).toBeLessThanOrEqual(rate.latencyMs + (rate.burstBytes * 8000) / rate.bitsPerS);
    expect(maxWait).toBeGreaterThan(rate.latencyMs * 0.8);
  });
});

describe('profiles', () => {
  it('split a round trip evenly between the two directions', () => {
    expect(directionImpairment(PROFILES.bad)).toEqual({
      delayMs: 60,
      jitterMs: 20,
      loss: 0.03,
      reorder: 0.005,
    });
  });

  it('size tbf queues from their stated latency', () => {
    // 8 Mb/s × 80 ms = 80 000 bytes, plus the 16 000-byte burst.
    expect(tbfLimitBytes(PROFILES['4g'].rate!)).toBe(96_000);
    expect(tbfArgs('rv', PROFILES['4g'])).toEqual([
      'qdisc',
      'replace',
      'dev',
      'rv',
      'root',
      'tbf',
      'rate',
      '8000000bit',
      'burst',
      '16000b',
      'limit',
      '96000b',
    ]);
    expect(tbfArgs('rv', PROFILES.lan)).toContain('pfifo');
  });
});
