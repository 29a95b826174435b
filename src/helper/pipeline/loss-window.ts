/**
 * Packet loss over a window of receiver reports, from the deltas of their cumulative counters.
 *
 * One report's own `fractionLost` is not used: Chromium sends a receiver report with every NACK, so
 * under loss reports come every few milliseconds and each one's fraction covers a handful of packets
 * (0.3–0.95 were ordinary noise at 3 % random loss). Counted over at least `windowMs` and `minPackets`,
 * the same counters give the path's loss. `cumulativeLost` may fall between reports (a retransmitted
 * packet arriving counts as received) and may be negative (RFC 3550: duplicates): only the window's
 * delta is used, clamped to [0, packets expected].
 */
export interface LossSample {
  atMs: number;
  /** Extended highest sequence number received. */
  highestSequence: number;
  cumulativeLost: number;
}

export interface WindowLoss {
  /** Fraction of the window's packets still missing, 0..1. */
  loss: number;
  /** Packets the receiver expected over the window. */
  packets: number;
  fromMs: number;
  toMs: number;
}

/** A jump larger than this between two reports is not the same stream: start over. */
const MAX_SEQUENCE_JUMP = 1 << 15;

export class LossWindow {
  private samples: LossSample[] = [];

  constructor(
    private readonly windowMs: number,
    private readonly minPackets: number,
    /** Samples older than this are dropped: a window never reaches further back. */
    private readonly historyMs: number,
  ) {}

  /**
   * Adds a report's counters. Returns false (and keeps nothing) when they cannot belong to the
   * window: not finite, a negative sequence, time going back, or an out-of-order report whose
   * highest sequence is below the last one's (its counters are older than what the window holds).
   */
  add(s: LossSample): boolean {
    if (![s.atMs, s.highestSequence, s.cumulativeLost].every(Number.isFinite)) return false;
    if (s.highestSequence < 0) return false;
    const last = this.samples.at(-1);
    if (last) {
      if (s.atMs < last.atMs || s.highestSequence < last.highestSequence) return false;
      if (s.highestSequence - last.highestSequence > MAX_SEQUENCE_JUMP) this.samples = [];
    }
    this.samples.push({ ...s });
    const oldest = s.atMs - this.historyMs;
    while (this.samples.length > 1 && this.samples[0]!.atMs < oldest) this.samples.shift();
    return true;
  }

  /**
   * Loss between the newest report and the latest older one that is at least `windowMs` before it
   * with at least `minPackets` expected in between; undefined while no such report exists (too soon,
   * or too few packets: a still screen sends a few a second, and 1 lost of 3 is not 33 % loss).
   */
  current(): WindowLoss | undefined {
    const newest = this.samples.at(-1);
    if (!newest) return undefined;
    for (let i = this.samples.length - 2; i >= 0; i--) {
      const old = this.samples[i]!;
      const packets = newest.highestSequence - old.highestSequence;
      if (newest.atMs - old.atMs < this.windowMs || packets < this.minPackets) continue;
      const lost = Math.min(packets, Math.max(0, newest.cumulativeLost - old.cumulativeLost));
      return { loss: lost / packets, packets, fromMs: old.atMs, toMs: newest.atMs };
    }
    return undefined;
  }

  /** Forgets all but the newest report, which becomes the start of the next window. */
  restart(): void {
    this.samples = this.samples.slice(-1);
  }
}
