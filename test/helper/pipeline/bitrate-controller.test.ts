/**
 * BitrateController v2 against synthetic receiver-report sequences on a fake clock: a simple path
 * model (link rate, random loss, queueing delay, REMB) driven at the controller's own rate, so every
 * decision feeds back into what the next reports say.
 */
import { describe, expect, it } from 'vitest';
import {
  BitrateController,
  type BitrateControllerOptions,
  type BitrateDecision,
  type ReceiverReport,
} from '../../../src/helper/pipeline/bitrate-controller.js';

const PACKET_BYTES = 1200;

/** Deterministic [0, 1) numbers (mulberry32), so a "random" loss run is the same every time. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface PathModel {
  /** The bottleneck: what is sent above it is lost (a full queue drops the excess). */
  linkBps: (t: number) => number;
  /** Random loss on top, 0..1. */
  randomLoss?: number;
  baseRttMs: (t: number) => number;
  /** Queueing delay added while sending above the link. */
  queueMs?: number;
  remb?: (t: number) => number | undefined;
  /** Fraction of the send rate the screen actually produces (a still screen: ~0). */
  appShare?: number;
  reportEveryMs?: number;
  seed?: number;
}

interface Run {
  decisions: (BitrateDecision & { t: number })[];
  rates: { t: number; bps: number }[];
}

/** Sends at the controller's rate through the model and feeds it the receiver's reports until `untilMs`. */
function drive(c: BitrateController, m: PathModel, fromMs: number, untilMs: number, state = newState()): Run {
  const step = m.reportEveryMs ?? 20;
  const rnd = seeded(m.seed ?? 1);
  const run: Run = { decisions: [], rates: [] };
  for (let t = fromMs; t < untilMs; t += step) {
    const sendBps = c.bitrate * (m.appShare ?? 1);
    const bytes = (sendBps * step) / 8000;
    c.onSent(bytes, t);
    const link = m.linkBps(t);
    const over = sendBps > link;
    const packets = bytes / PACKET_BYTES;
    state.seq += packets;
    const excess = over ? 1 - link / sendBps : 0;
    if (m.randomLoss) {
      // Per packet, so a report covers a handful of packets and its own fraction is noise.
      state.pending += packets;
      while (state.pending >= 1) {
        state.pending -= 1;
        if (rnd() < m.randomLoss) state.lost += 1;
      }
    }
    state.lost += packets * excess;
    const report: ReceiverReport = {
      highestSequence: Math.floor(state.seq),
      cumulativeLost: Math.floor(state.lost),
      rttMs: m.baseRttMs(t) + (over ? (m.queueMs ?? 227) : 0),
      estimatedBitrate: m.remb?.(t),
    };
    const d = c.onReport(report, t);
    if (d) {
      run.decisions.push({ ...d, t });
      run.rates.push({ t, bps: d.bps });
    }
  }
  return run;
}

function newState(): { seq: number; lost: number; pending: number } {
  return { seq: 1000, lost: 0, pending: 0 };
}

const flat = (v: number) => (): number => v;

function controller(opts: Partial<BitrateControllerOptions> & { targetBps: number }): BitrateController {
  return new BitrateController(opts);
}

describe('BitrateController', () => {
  it('starts below a high target, at 1.5 Mb/s, and at the target when that is lower', () => {
    expect(controller({ targetBps: 3_870_000 }).bitrate).toBe(1_500_000);
    expect(controller({ targetBps: 1_000_000 }).bitrate).toBe(1_000_000);
    expect(controller({ targetBps: 3_870_000, startBps: 3_870_000 }).bitrate).toBe(3_870_000);
  });

  it('holds the rate at 3 % random loss with a receiver report every few ms (each one noise)', () => {
    const c = controller({ targetBps: 2_000_000, startBps: 2_000_000 });
    const state = newState();
    const noisy: ReceiverReport[] = [];
    const rnd = seeded(7);
    // Chromium's RR-with-every-NACK: reports 5 ms apart, the lost count also falling back now and
    // then as retransmissions arrive.
    for (let t = 0; t < 60_000; t += 5) {
      const packets = (2_000_000 * 5) / 8000 / PACKET_BYTES;
      c.onSent(packets * PACKET_BYTES, t);
      state.pending += packets;
      while (state.pending >= 1) {
        state.pending -= 1;
        state.seq += 1;
        if (rnd() < 0.03) state.lost += 1;
      }
      if (state.lost > 0 && rnd() < 0.003) state.lost -= 1; // a retransmission arrived
      const r = {
        highestSequence: state.seq,
        cumulativeLost: state.lost,
        rttMs: 40 + rnd() * 10,
        estimatedBitrate: undefined,
      };
      noisy.push(r);
      expect(c.onReport(r, t)).toBeUndefined();
    }
    expect(c.bitrate).toBe(2_000_000);
    // The per-report fractions really were noise: many single reports saw far more than 10 %.
    let spiky = 0;
    for (let i = 1; i < noisy.length; i++) {
      const expected = noisy[i]!.highestSequence - noisy[i - 1]!.highestSequence;
      if (expected > 0 && (noisy[i]!.cumulativeLost - noisy[i - 1]!.cumulativeLost) / expected > 0.3) spiky++;
    }
    expect(spiky).toBeGreaterThan(50);
  });

  it('on a 1 Mb/s link while sending 3.87 Mb/s, drops in one step to ~0.85 Mb/s and stays there', () => {
    const c = controller({ targetBps: 3_870_000, startBps: 3_870_000 });
    const run = drive(c, { linkBps: flat(1_000_000), baseRttMs: flat(43) }, 0, 10_000);
    const first = run.decisions[0]!;
    expect(first.reason).toBe('congestion');
    expect(first.t).toBeLessThanOrEqual(1_100); // one window
    expect(first.loss).toBeGreaterThan(0.7);
    expect(first.deliveredBps).toBeGreaterThan(950_000);
    expect(first.deliveredBps).toBeLessThan(1_050_000);
    expect(first.bps).toBeGreaterThan(800_000);
    expect(first.bps).toBeLessThan(900_000);
    // No second step down: the drop drained the queue.
    expect(run.decisions.filter((d) => d.reason === 'congestion')).toHaveLength(1);
  });

  it('follows a lower REMB on congestion', () => {
    const c = controller({ targetBps: 3_870_000, startBps: 3_870_000 });
    const run = drive(c, { linkBps: flat(1_000_000), baseRttMs: flat(43), remb: flat(700_000) }, 0, 3_000);
    expect(run.decisions[0]!.bps).toBe(630_000);
  });

  it('at most halves a sender that did not use its rate (its delivered rate measures the screen, not the path)', () => {
    const c = controller({ targetBps: 3_870_000, startBps: 3_870_000 });
    const run = drive(c, { linkBps: flat(100_000), baseRttMs: flat(43), appShare: 0.05 }, 0, 10_000);
    const first = run.decisions[0]!;
    expect(first.reason).toBe('congestion');
    expect(first.loss).toBeGreaterThan(0.4);
    expect(first.deliveredBps).toBeUndefined();
    expect(first.bps).toBe(1_935_000);
  });

  it('never drops below the floor', () => {
    const c = controller({ targetBps: 3_870_000, startBps: 3_870_000, minBps: 400_000 });
    drive(c, { linkBps: flat(100_000), baseRttMs: flat(43) }, 0, 30_000);
    expect(c.bitrate).toBe(400_000);
  });

  it('raises a clean path by 1.5x per hold time while the REMB allows, up to the target and no further', () => {
    const c = controller({ targetBps: 3_870_000 });
    // Chromium's REMB runs ahead of what it receives (at most ~1.5×).
    const remb = (): number => 1.6 * c.bitrate;
    const run = drive(c, { linkBps: flat(50_000_000), baseRttMs: flat(20), remb }, 0, 20_000);
    expect(run.rates.map((r) => r.bps)).toEqual([2_250_000, 3_375_000, 3_870_000]);
    for (let i = 1; i < run.rates.length; i++)
      expect(run.rates[i]!.t - run.rates[i - 1]!.t).toBeGreaterThanOrEqual(2_000);
    expect(run.decisions.every((d) => d.reason === 'clean')).toBe(true);
  });

  it('raises blind (no REMB yet) by 1.25x, after two hold times clean', () => {
    const c = controller({ targetBps: 3_870_000 });
    const run = drive(c, { linkBps: flat(50_000_000), baseRttMs: flat(20) }, 0, 20_000);
    expect(run.rates.map((r) => r.bps)).toEqual([1_875_000, 2_343_750, 2_929_688, 3_662_110]);
    for (let i = 1; i < run.rates.length; i++)
      expect(run.rates[i]!.t - run.rates[i - 1]!.t).toBeGreaterThanOrEqual(4_000);
  });

  it('takes back a raise that made the queue grow, at once, and waits longer before the next one', () => {
    const c = controller({ targetBps: 3_870_000 });
    // A 2 Mb/s link with a deep queue (no loss): 1.5 → 1.875 fits, 1.875 → 2.34 does not.
    const run = drive(c, { linkBps: flat(2_000_000), baseRttMs: flat(120), queueMs: 80 }, 0, 40_000);
    const failed = run.decisions.filter((d) => d.reason === 'probe_failed');
    expect(failed.length).toBeGreaterThan(0);
    const first = failed[0]!;
    const raise = run.decisions[run.decisions.indexOf(first) - 1]!;
    expect(raise.reason).toBe('clean');
    expect(first.bps).toBe(1_875_000);
    expect(first.t - raise.t).toBeLessThan(1_500);
    // The next try waits twice the near-wall time (12 s), not 6 s.
    const next = run.decisions.find((d) => d.t > first.t && d.reason === 'clean');
    if (next) expect(next.t - first.t).toBeGreaterThanOrEqual(12_000);
    expect(run.decisions.filter((d) => d.reason === 'congestion')).toEqual([]);
  });

  it('does not raise a sender that does not use its rate (a still screen)', () => {
    const c = controller({ targetBps: 3_870_000 });
    const run = drive(c, { linkBps: flat(50_000_000), baseRttMs: flat(20), appShare: 0.05 }, 0, 20_000);
    expect(run.decisions).toEqual([]);
  });

  it('raises to 0.9x a higher REMB in one step', () => {
    const c = controller({ targetBps: 8_000_000 });
    const run = drive(c, { linkBps: flat(50_000_000), baseRttMs: flat(20), remb: flat(6_000_000) }, 0, 3_000);
    expect(run.rates).toEqual([{ t: expect.any(Number) as number, bps: 5_400_000 }]);
  });

  it('never raises past the REMB: a rate at or above it holds', () => {
    const c = controller({ targetBps: 3_870_000 });
    // A link of 2 Mb/s that Chromium estimates at 1.4 Mb/s: a 1.5 × raise from 1.5 Mb/s would pass it.
    const run = drive(
      c,
      { linkBps: flat(2_000_000), baseRttMs: flat(120), remb: flat(1_400_000) },
      0,
      20_000,
    );
    expect(run.rates.every((r) => r.bps <= 1_400_000)).toBe(true);
    const up = controller({ targetBps: 3_870_000 });
    const raised = drive(
      up,
      { linkBps: flat(5_000_000), baseRttMs: flat(20), remb: flat(2_000_000) },
      0,
      3_000,
    );
    expect(raised.rates.map((r) => r.bps)).toEqual([2_000_000]);
  });

  it('reads a gap in the reports as an outage, not as congestion', () => {
    const c = controller({ targetBps: 1_000_000 });
    const state = newState();
    const path = { linkBps: flat(5_000_000), baseRttMs: flat(40) };
    drive(c, path, 0, 5_000, state);
    // 2 s without reports while 1 Mb/s of packets is lost, then the path is clean again.
    state.seq += 2 * (1_000_000 / 8 / PACKET_BYTES);
    state.lost += 2 * (1_000_000 / 8 / PACKET_BYTES);
    const after = drive(c, path, 7_000, 15_000, state);
    expect(after.decisions.filter((d) => d.reason === 'congestion')).toEqual([]);
    expect(c.bitrate).toBe(1_000_000);
  });

  it('recovers after the congestion ends, slowly near the old wall and fast past it', () => {
    const c = controller({ targetBps: 3_870_000, startBps: 3_870_000 });
    const link = (t: number): number => (t < 5_000 ? 1_000_000 : 50_000_000);
    const run = drive(c, { linkBps: link, baseRttMs: flat(43) }, 0, 60_000);
    expect(run.decisions[0]!.reason).toBe('congestion');
    const raises = run.decisions.filter((d) => d.reason === 'clean');
    // Near the 1 Mb/s wall: +10 % steps, each after 6 s clean; past 1.2x of it: blind 1.25x steps (no REMB here).
    expect(raises[0]!.bps / run.decisions[0]!.bps).toBeCloseTo(1.1, 2);
    expect(raises[0]!.t - run.decisions[0]!.t).toBeGreaterThanOrEqual(6_000);
    const big = raises.filter((d, i) => i > 0 && d.bps / raises[i - 1]!.bps > 1.2);
    expect(big.length).toBeGreaterThan(0);
    expect(c.bitrate).toBe(3_870_000);
  });

  it('does not probe into the same wall every hold time', () => {
    const c = controller({ targetBps: 3_870_000, startBps: 3_870_000 });
    const run = drive(c, { linkBps: flat(1_000_000), baseRttMs: flat(43) }, 0, 60_000);
    // Probes: raises that took the rate over the link.
    const probes = run.decisions.filter((d) => d.reason === 'clean' && d.bps > 1_000_000);
    expect(probes.length).toBeGreaterThanOrEqual(1); // it does look again...
    expect(probes.length).toBeLessThanOrEqual(5); // ...but not every 2 s (that would be ~20)
    for (let i = 1; i < probes.length; i++)
      expect(probes[i]!.t - probes[i - 1]!.t).toBeGreaterThanOrEqual(10_000);
    for (const d of run.decisions.slice(1)) expect(d.bps).toBeLessThan(1_200_000);
    expect(run.decisions.length).toBeLessThanOrEqual(16);
  });

  it('treats an RTT held 100 ms above the base for a window as congestion, a single spike not', () => {
    const c = controller({ targetBps: 2_000_000, startBps: 2_000_000 });
    const base = drive(c, { linkBps: flat(50_000_000), baseRttMs: flat(40) }, 0, 5_000);
    expect(base.decisions).toEqual([]);
    const state = { seq: 1e6, lost: 0 };
    const report = (rttMs: number): ReceiverReport => {
      state.seq += 200;
      return { highestSequence: state.seq, cumulativeLost: 0, rttMs, estimatedBitrate: undefined };
    };
    for (let t = 5_000; t < 9_000; t += 100) c.onSent(25_000, t);
    // One spike among ordinary reports (every 100 ms): the median of the last second does not move.
    for (let t = 5_000; t < 6_000; t += 100)
      expect(c.onReport(report(t === 5_300 ? 400 : 42), t)).toBeUndefined();
    // Then a standing queue: 300 ms from 6.0 s. High, but not yet for a window...
    let d: BitrateDecision | undefined;
    let at = 6_000;
    for (; at < 8_000 && !d; at += 100) {
      d = c.onReport(report(300), at);
      if (at < 6_500) expect(d).toBeUndefined();
    }
    // ...until the median has been high for a whole window.
    expect(at - 100).toBeGreaterThanOrEqual(7_000);
    expect(d?.reason).toBe('congestion');
    expect(d?.rttRiseMs).toBe(260);
    expect(d!.bps).toBeLessThan(2_000_000);
  });

  it('reads ±40 ms of RTT jitter as jitter: no congestion, and the path counts as clean', () => {
    const c = controller({ targetBps: 3_870_000 });
    const rnd = seeded(7);
    const run = drive(
      c,
      { linkBps: flat(50_000_000), baseRttMs: () => 120 + (rnd() * 2 - 1) * 40, remb: flat(3_000_000) },
      0,
      20_000,
    );
    expect(run.decisions.filter((d) => d.reason === 'congestion')).toEqual([]);
    expect(run.decisions.filter((d) => d.reason === 'clean').length).toBeGreaterThan(0);
    expect(run.decisions.every((d) => (d.rttRiseMs ?? 0) < 30)).toBe(true);
  });

  it('lets the base RTT rise after a route change: one step down, then raises again', () => {
    const c = controller({ targetBps: 3_000_000, startBps: 3_000_000 });
    const rtt = (t: number): number => (t < 10_000 ? 40 : 160);
    const run = drive(c, { linkBps: flat(50_000_000), baseRttMs: rtt }, 0, 60_000);
    const drops = run.decisions.filter((d) => d.reason === 'congestion');
    expect(drops).toHaveLength(1);
    const raise = run.decisions.find((d) => d.reason === 'clean');
    // Not before the 40 ms samples have left the 20 s base window.
    expect(raise!.t).toBeGreaterThanOrEqual(30_000);
    expect(c.bitrate).toBe(3_000_000);
  });

  it('ignores an out-of-order report whose counters are older than the window', () => {
    const c = controller({ targetBps: 2_000_000, startBps: 2_000_000 });
    const state = newState();
    drive(c, { linkBps: flat(50_000_000), baseRttMs: flat(40) }, 0, 3_000, state);
    const stale: ReceiverReport = {
      highestSequence: Math.floor(state.seq) - 50,
      cumulativeLost: Math.floor(state.lost) + 5_000,
      rttMs: 1, // would lower the base
      estimatedBitrate: undefined,
    };
    expect(c.onReport(stale, 3_000)).toBeUndefined();
    const after = drive(c, { linkBps: flat(50_000_000), baseRttMs: flat(40) }, 3_020, 8_000, state);
    expect(after.decisions.filter((d) => d.reason === 'congestion')).toEqual([]);
  });

  it('ignores NaN and negative values', () => {
    const c = controller({ targetBps: 8_000_000, startBps: 1_000_000 });
    const state = newState();
    drive(c, { linkBps: flat(50_000_000), baseRttMs: flat(40), appShare: 0 }, 0, 3_000, state);
    const seq = Math.floor(state.seq);
    const bad: ReceiverReport[] = [
      { highestSequence: Number.NaN, cumulativeLost: 0, rttMs: 40, estimatedBitrate: undefined },
      { highestSequence: -5, cumulativeLost: 0, rttMs: 40, estimatedBitrate: undefined },
      { highestSequence: seq + 500, cumulativeLost: Number.NaN, rttMs: 40, estimatedBitrate: undefined },
      { highestSequence: seq + 500, cumulativeLost: Infinity, rttMs: 40, estimatedBitrate: undefined },
    ];
    for (const [i, r] of bad.entries()) expect(c.onReport(r, 3_000 + i)).toBeUndefined();
    // Garbage RTTs do not move the base (a negative one would make every later RTT look like a queue),
    // garbage REMBs do not raise, garbage sends do not count.
    let t = 3_100;
    for (const rttMs of [Number.NaN, -500, Infinity]) {
      expect(
        c.onReport({ highestSequence: seq + 1, cumulativeLost: 0, rttMs, estimatedBitrate: undefined }, t),
      ).toBeUndefined();
      t += 10;
    }
    for (const estimatedBitrate of [Number.NaN, -6_000_000, 0]) {
      expect(
        c.onReport({ highestSequence: seq + 1, cumulativeLost: 0, rttMs: 40, estimatedBitrate }, t),
      ).toBeUndefined();
      t += 10;
    }
    c.onSent(Number.NaN, t);
    c.onSent(-1e9, t);
    expect(c.bitrate).toBe(1_000_000);
    // The path still reads clean afterwards: nothing above was taken for loss or a queue.
    const run = drive(c, { linkBps: flat(50_000_000), baseRttMs: flat(40) }, 4_000, 8_000, state);
    expect(run.decisions[0]?.reason).toBe('clean');
  });
});
