/**
 * Adapts one viewer's bitrate to what its path carries, from its receiver reports (loss, RTT, REMB)
 * and what was actually sent to it. Every change costs the encoders here a keyframe (a new ffmpeg
 * process or VideoEncoder), so changes are few and decisive: congestion drops the rate in one step to
 * what the path delivered, a clean path raises it in large steps, except near a rate at which the path
 * recently broke down. The policy and its constants are explained in design/MEDIA.md, "Adaptive
 * bitrate". Time is always passed in (`nowMs`), so tests drive it with a fake clock.
 */
import { LossWindow, type WindowLoss } from './loss-window.js';
import { RttBaseline } from './rtt-baseline.js';
import { SendRate } from './send-rate.js';

export interface ReceiverReport {
  cumulativeLost: number;
  /** Extended highest sequence number received. */
  highestSequence: number;
  rttMs: number | undefined;
  /** The viewer's REMB estimate in bit/s, if it sends one. */
  estimatedBitrate: number | undefined;
}

export interface BitrateControllerOptions {
  /** The bitrate wanted on a clean path (the ceiling). */
  targetBps: number;
  /** Where a new viewer starts: default min(target, 1.5 Mb/s) (see `DEFAULT_START_BPS`). */
  startBps?: number;
  minBps?: number;
  /** Least time between two changes, and how long a path must be clean before a raise. */
  holdMs?: number;
}

/** One change of the bitrate and the measurements it was made on (for the log). */
export interface BitrateDecision {
  bps: number;
  /** probe_failed: a raise made the RTT or loss climb within PROBE_WATCH_MS; back to the rate before it. */
  reason: 'congestion' | 'clean' | 'probe_failed';
  /** Loss over the window, 0..1, when a window was complete. */
  loss?: number;
  rttRiseMs?: number;
  rembBps?: number;
  /** Sent rate × (1 − loss) over the window, when the sender was using its rate. */
  deliveredBps?: number;
  sentBps?: number;
}

/**
 * A new viewer's first rate when the target is higher. Starting at a 720p60 target of 3.87 Mb/s on a
 * 1 Mb/s link took ~16 s to the first picture (every step down a keyframe into a full queue); 1.5 Mb/s
 * is what most links a remote desktop is used over carry, and a clean path reaches 3.87 Mb/s in two
 * raises (~4 s of motion).
 */
export const DEFAULT_START_BPS = 1_500_000;
export const DEFAULT_MIN_BPS = 300_000;

/** Loss and RTT are judged over at least this long and this many packets. */
export const WINDOW_MS = 1_000;
export const WINDOW_MIN_PACKETS = 100;
/** Windowed loss above this is congestion; at or below `LOSS_CLEAN` the path is clean; between, hold. */
export const LOSS_CONGESTED = 0.1;
export const LOSS_CLEAN = 0.02;
/** An RTT this far above the base for a whole window is a standing queue: congestion. */
export const RTT_RISE_CONGESTED_MS = 100;
/** Above this rise the path is not clean (a queue is building), though not yet congested. */
export const RTT_RISE_CLEAN_MS = 50;
/** The base RTT is the least over this long: long enough to see through a queue, short enough to follow a route change. */
export const BASE_RTT_WINDOW_MS = 20_000;
/** On congestion, the new rate is this share of the delivered rate (room for the queue to drain). */
export const DELIVERED_SHARE = 0.85;
/** and at most this share of the viewer's REMB. */
export const REMB_SHARE = 0.9;
/** Below this share of its rate the sender is limited by the screen, not the path. */
export const APP_LIMITED_SHARE = 0.5;
/** A clean path far from the last congestion point is raised by this factor... */
export const RAISE_FACTOR = 1.5;
/** ...near it (within `WALL_NEAR` of it, for `WALL_MEMORY_MS`) only by this one, */
export const RAISE_NEAR_FACTOR = 1.1;
export const WALL_NEAR = 1.2;
export const WALL_MEMORY_MS = 30_000;
/** ...and only after the path has been clean this many hold times. */
export const WALL_HOLDS = 3;
/**
 * With no REMB yet (Chromium sends its first one seconds in, some viewers never), a raise is blind:
 * smaller, and only after this many hold times clean. On the bench two blind × 1.5 raises took a
 * 2 Mb/s link from 1.5 to 3.4 Mb/s before the first REMB arrived: a 2.3 s freeze.
 */
export const BLIND_RAISE_FACTOR = 1.25;
export const BLIND_HOLDS = 2;
/**
 * After a raise, this long (each failed probe in a row doubles the clean time wanted before the next
 * raise near the wall, up to 8×): an RTT rise above RTT_RISE_CLEAN_MS held for PROBE_RTT_MS, or windowed
 * loss above PROBE_LOSS, means the raise went past the path: back to the rate before it at once
 * (no hold time), and that rate becomes the wall.
 */
export const PROBE_WATCH_MS = 3_000;
export const PROBE_RTT_MS = 500;
export const PROBE_LOSS = 0.05;
/**
 * No report for this long is an outage (the viewer sends one at least every second, and one with every
 * NACK): the loss and RTT windows start again at the next report rather than read the outage as
 * congestion, which on the bench took a 1 Mb/s stream to the 300 kb/s floor after a 2 s outage.
 */
export const OUTAGE_GAP_MS = 1_500;

export class BitrateController {
  private current: number;
  private readonly minBps: number;
  private readonly holdMs: number;
  private lastChangeAt = -Infinity;
  private cleanSince: number | undefined;
  private rttHighSince: number | undefined;
  /** After a drop, the RTT counts again only once it has come back down (the queue drained). */
  private rttArmed = true;
  private remb: number | undefined;
  /** The delivered rate when congestion was last seen, and when. */
  private wall: { bps: number; atMs: number } | undefined;
  private readonly loss = new LossWindow(WINDOW_MS, WINDOW_MIN_PACKETS, 10_000);
  private readonly rtt = new RttBaseline(BASE_RTT_WINDOW_MS);
  private readonly sent = new SendRate(10_000);
  private lastReportAt: number | undefined;
  /** The last raise, watched for PROBE_WATCH_MS. */
  private probe: { fromBps: number; toBps: number; untilMs: number; highSince?: number } | undefined;
  /** Probes that failed in a row: each doubles the clean time wanted near the wall (at most 8×). */
  private failedProbes = 0;

  constructor(private readonly opts: BitrateControllerOptions) {
    this.minBps = opts.minBps ?? DEFAULT_MIN_BPS;
    this.holdMs = opts.holdMs ?? 2_000;
    const start = opts.startBps ?? Math.min(opts.targetBps, DEFAULT_START_BPS);
    this.current = Math.max(this.minBps, Math.min(opts.targetBps, start));
  }

  get bitrate(): number {
    return this.current;
  }

  /** Media bytes sent to this viewer at `nowMs` (what its path was offered). */
  onSent(bytes: number, nowMs: number): void {
    this.sent.add(bytes, nowMs);
  }

  /** Feeds one receiver report; returns the decision when the bitrate should change, else undefined. */
  onReport(r: ReceiverReport, nowMs: number): BitrateDecision | undefined {
    const afterOutage = this.lastReportAt !== undefined && nowMs - this.lastReportAt > OUTAGE_GAP_MS;
    this.lastReportAt = nowMs;
    const counted = this.loss.add({
      atMs: nowMs,
      highestSequence: r.highestSequence,
      cumulativeLost: r.cumulativeLost,
    });
    if (!counted) return undefined;
    if (afterOutage) {
      // This report starts the next window: what was lost during the outage is behind it.
      this.loss.restart();
      this.rttHighSince = undefined;
      this.cleanSince = undefined;
      return undefined;
    }
    if (r.rttMs !== undefined) this.rtt.add(r.rttMs, nowMs);
    const remb = r.estimatedBitrate;
    if (remb !== undefined && Number.isFinite(remb) && remb > 0) this.remb = remb;

    const window = this.loss.current();
    const rise = this.rtt.riseMs;
    if (rise !== undefined && rise > RTT_RISE_CONGESTED_MS) this.rttHighSince ??= nowMs;
    else if (rise !== undefined) {
      this.rttHighSince = undefined;
      this.rttArmed = true;
    }
    const rttCongested =
      this.rttArmed && this.rttHighSince !== undefined && nowMs - this.rttHighSince >= WINDOW_MS;
    const lossCongested = window !== undefined && window.loss > LOSS_CONGESTED;
    const clean = (window?.loss ?? 0) <= LOSS_CLEAN && (rise ?? 0) <= RTT_RISE_CLEAN_MS;
    if (!clean) this.cleanSince = undefined;
    else this.cleanSince ??= nowMs;

    const failed = this.probeFailed(window, rise, nowMs);
    if (failed) return failed;
    if (nowMs - this.lastChangeAt < this.holdMs) return undefined;
    if (lossCongested || rttCongested) return this.lower(window, rise, nowMs);
    if (clean) return this.raise(window, rise, nowMs);
    return undefined;
  }

  private probeFailed(
    window: WindowLoss | undefined,
    rise: number | undefined,
    nowMs: number,
  ): BitrateDecision | undefined {
    const p = this.probe;
    if (!p) return undefined;
    if (nowMs > p.untilMs || this.current !== p.toBps) {
      if (nowMs > p.untilMs) this.failedProbes = 0;
      this.probe = undefined;
      return undefined;
    }
    if (rise !== undefined && rise > RTT_RISE_CLEAN_MS) p.highSince ??= nowMs;
    else p.highSince = undefined;
    const rttBad = p.highSince !== undefined && nowMs - p.highSince >= PROBE_RTT_MS;
    const lossBad = window !== undefined && window.loss > PROBE_LOSS;
    if (!rttBad && !lossBad) return undefined;
    this.probe = undefined;
    this.failedProbes = Math.min(3, this.failedProbes + 1);
    this.wall = { bps: p.fromBps, atMs: nowMs };
    return this.change(p.fromBps, nowMs, {
      reason: 'probe_failed',
      ...(window ? { loss: window.loss } : {}),
      ...(rise !== undefined ? { rttRiseMs: rise } : {}),
      ...(this.remb !== undefined ? { rembBps: this.remb } : {}),
    });
  }

  private lower(
    window: WindowLoss | undefined,
    rise: number | undefined,
    nowMs: number,
  ): BitrateDecision | undefined {
    const loss = window?.loss ?? 0;
    const sent = this.sent.bps(window?.fromMs ?? nowMs - WINDOW_MS, window?.toMs ?? nowMs);
    // Only a sender that used its rate measured the path; a still screen's few packets say nothing.
    const delivered =
      sent !== undefined && sent >= APP_LIMITED_SHARE * this.current ? sent * (1 - loss) : undefined;
    let next =
      delivered !== undefined
        ? DELIVERED_SHARE * delivered
        : Math.max(0.5 * this.current, DELIVERED_SHARE * this.current * (1 - loss));
    if (this.remb !== undefined) next = Math.min(next, REMB_SHARE * this.remb);
    next = Math.max(this.minBps, Math.round(Math.min(next, DELIVERED_SHARE * this.current)));
    this.wall = { bps: delivered ?? this.current * (1 - loss), atMs: nowMs };
    // The queue built at the old rate keeps the RTT high a while after the drop: not new evidence.
    this.rttArmed = false;
    this.rttHighSince = undefined;
    return this.change(next, nowMs, {
      reason: 'congestion',
      ...(window ? { loss: window.loss } : {}),
      ...(rise !== undefined ? { rttRiseMs: rise } : {}),
      ...(this.remb !== undefined ? { rembBps: this.remb } : {}),
      ...(delivered !== undefined ? { deliveredBps: Math.round(delivered) } : {}),
      ...(sent !== undefined ? { sentBps: Math.round(sent) } : {}),
    });
  }

  private raise(
    window: WindowLoss | undefined,
    rise: number | undefined,
    nowMs: number,
  ): BitrateDecision | undefined {
    const target = this.opts.targetBps;
    if (this.current >= target || this.cleanSince === undefined) return undefined;
    const cleanFor = nowMs - this.cleanSince;
    if (cleanFor < this.holdMs) return undefined;
    const sent = this.sent.bps(nowMs - this.holdMs, nowMs);
    // A sender that does not use its rate (a still screen) learns nothing by having more of it.
    if (sent !== undefined && sent < APP_LIMITED_SHARE * this.current) return undefined;

    // Blind (no REMB yet): smaller steps, after a longer clean spell.
    if (this.remb === undefined && cleanFor < BLIND_HOLDS * this.holdMs) return undefined;
    let next = this.current * (this.remb === undefined ? BLIND_RAISE_FACTOR : RAISE_FACTOR);
    const wall = this.wall && nowMs - this.wall.atMs < WALL_MEMORY_MS ? this.wall.bps : undefined;
    if (wall !== undefined && this.current >= wall / WALL_NEAR && this.current <= wall * WALL_NEAR) {
      // Near where the path last broke down: small, rarer probes (each costs a keyframe and, past
      // the wall, a loss burst).
      if (cleanFor < WALL_HOLDS * this.holdMs * 2 ** this.failedProbes) return undefined;
      next = this.current * RAISE_NEAR_FACTOR;
    } else if (wall !== undefined && this.current < wall / WALL_NEAR) {
      next = Math.min(next, wall / WALL_NEAR);
    }
    // REMB is Chromium's receive-side estimate: above the current rate it is evidence of room. (Not
    // a ceiling here: it is at most ~1.5× what it receives, which is little while the screen is still.)
    // REMB (Chromium's receive-side estimate, at most ~1.5 × what it receives) both lets a raise jump
    // when it is far above the rate and caps every raise: on the bench a ×1.5 raise past a REMB of
    // 1.4 Mb/s filled a 2 Mb/s link's queue (+200 ms) until the next drop.
    if (this.remb !== undefined) {
      if (REMB_SHARE * this.remb > this.current) next = Math.max(next, REMB_SHARE * this.remb);
      next = Math.min(next, this.remb);
    }
    next = Math.round(Math.min(target, next));
    if (next <= this.current) return undefined;
    return this.change(next, nowMs, {
      reason: 'clean',
      ...(window ? { loss: window.loss } : {}),
      ...(rise !== undefined ? { rttRiseMs: rise } : {}),
      ...(this.remb !== undefined ? { rembBps: this.remb } : {}),
      ...(sent !== undefined ? { sentBps: Math.round(sent) } : {}),
    });
  }

  private change(
    next: number,
    nowMs: number,
    why: Omit<BitrateDecision, 'bps'>,
  ): BitrateDecision | undefined {
    if (next === this.current) return undefined;
    this.probe =
      why.reason === 'clean'
        ? { fromBps: this.current, toBps: next, untilMs: nowMs + PROBE_WATCH_MS }
        : undefined;
    this.current = next;
    this.lastChangeAt = nowMs;
    this.cleanSince = undefined;
    // Reports from before the change describe the old rate.
    this.loss.restart();
    return { bps: next, ...why };
  }
}
