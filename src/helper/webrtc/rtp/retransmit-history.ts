/**
 * The packets the viewer may still ask for again (generic NACK), and when it may have them. A NACK is
 * answered only for a packet that is recent enough to still be useful, not already resent within the
 * last round trip (the viewer repeats its NACK about once per RTT until the packet arrives), and while
 * retransmissions stay within their share of the stream's bitrate. Under congestion a viewer NACKs
 * most of what the link drops; answering all of it multiplied the load on the link several times over
 * (design/MEDIA.md, "Sending video"): past the budget, the viewer's keyframe request is the cheaper cure.
 */

export interface RetransmitPolicy {
  /** Packets kept (a power of two). */
  size: number;
  /** A packet older than this is never resent: the viewer has moved on or will ask for a keyframe. */
  maxAgeMs: number;
  /** Retransmitted bytes per second may be at most this share of the stream's bitrate. */
  budgetShare: number;
  /** The budget's burst: this long of it may be spent at once. */
  budgetWindowMs: number;
}

export const DEFAULT_RETRANSMIT_POLICY: RetransmitPolicy = {
  size: 1024,
  maxAgeMs: 1000,
  budgetShare: 0.25,
  budgetWindowMs: 250,
};

interface Kept {
  sequence: number;
  packet: Buffer;
  sentAt: number;
  resentAt: number;
}

export interface RetransmitCounters {
  /** Sequence numbers asked for. */
  asked: number;
  resent: number;
  resentBytes: number;
  /** Asked for but no longer kept or too old: the viewer cannot complete that frame. */
  gone: number;
  /** Resent less than a round trip ago (the viewer's NACK crossed the retransmission). */
  skipped: number;
  /** Refused because the budget was spent. */
  overBudget: number;
}

export class RetransmitHistory {
  private readonly slots: (Kept | undefined)[];
  private readonly mask: number;
  private tokens = 0;
  private refilledAt: number | undefined;
  readonly counters: RetransmitCounters = {
    asked: 0,
    resent: 0,
    resentBytes: 0,
    gone: 0,
    skipped: 0,
    overBudget: 0,
  };

  constructor(private readonly policy: RetransmitPolicy = DEFAULT_RETRANSMIT_POLICY) {
    if (policy.size <= 0 || (policy.size & (policy.size - 1)) !== 0)
      throw new RangeError(`history size ${policy.size} is not a power of two`);
    this.slots = new Array<Kept | undefined>(policy.size);
    this.mask = policy.size - 1;
  }

  remember(sequence: number, packet: Buffer, nowMs: number): void {
    this.slots[sequence & this.mask] = { sequence, packet, sentAt: nowMs, resentAt: -Infinity };
  }

  /**
   * The packets to send again for one NACK, oldest first, and how many asked for are gone (no longer
   * kept, or too old to help). `bitrate` is the stream's current bitrate (the budget follows it);
   * `rttMs` the latest round trip, if known.
   */
  take(
    sequences: readonly number[],
    nowMs: number,
    bitrate: number,
    rttMs: number | undefined,
  ): { packets: Buffer[]; gone: number } {
    this.refill(nowMs, bitrate);
    const spacing = Math.max(20, 0.8 * (rttMs ?? 100));
    const out: Buffer[] = [];
    let gone = 0;
    for (const seq of sequences) {
      this.counters.asked += 1;
      const kept = this.slots[seq & this.mask];
      if (!kept || kept.sequence !== seq || nowMs - kept.sentAt > this.policy.maxAgeMs) {
        gone += 1;
        continue;
      }
      if (nowMs - kept.resentAt < spacing) {
        this.counters.skipped += 1;
        continue;
      }
      if (this.tokens < kept.packet.length) {
        this.counters.overBudget += 1;
        continue;
      }
      this.tokens -= kept.packet.length;
      kept.resentAt = nowMs;
      this.counters.resent += 1;
      this.counters.resentBytes += kept.packet.length;
      out.push(kept.packet);
    }
    this.counters.gone += gone;
    return { packets: out, gone };
  }

  clear(): void {
    this.slots.fill(undefined);
  }

  private refill(nowMs: number, bitrate: number): void {
    const perMs = (bitrate * this.policy.budgetShare) / 8 / 1000;
    const cap = perMs * this.policy.budgetWindowMs;
    if (this.refilledAt === undefined) this.tokens = cap;
    else this.tokens = Math.min(cap, this.tokens + (nowMs - this.refilledAt) * perMs);
    this.refilledAt = nowMs;
  }
}
