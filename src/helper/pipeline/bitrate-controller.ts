/**
 * Adapts the encoder's bitrate to what the viewer's receiver reports say the path carries. Loss or a
 * sharp rise in round-trip time lowers it at once; a clean path raises it slowly back toward the
 * target. Changes are spaced out because each one costs the encoders here a keyframe.
 */
export interface ReceiverReport {
  fractionLost: number;
  jitterMs: number;
  rttMs: number | undefined;
  estimatedBitrate: number | undefined;
}

export interface BitrateControllerOptions {
  /** The bitrate wanted on a clean path (the ceiling). */
  targetBps: number;
  minBps?: number;
  /** Least time between two changes. */
  holdMs?: number;
  /** A clean path must stay clean this long before the bitrate goes up. */
  raiseAfterMs?: number;
}

export class BitrateController {
  private current: number;
  private lastChangeAt = -Infinity;
  private cleanSince: number | undefined;
  private baseRtt: number | undefined;
  private readonly minBps: number;
  private readonly holdMs: number;
  private readonly raiseAfterMs: number;

  constructor(private readonly opts: BitrateControllerOptions) {
    this.current = opts.targetBps;
    this.minBps = opts.minBps ?? 300_000;
    this.holdMs = opts.holdMs ?? 2_000;
    this.raiseAfterMs = opts.raiseAfterMs ?? 8_000;
  }

  get bitrate(): number {
    return this.current;
  }

  /** Feeds one receiver report; returns the new bitrate when it should change, else undefined. */
  onReport(r: ReceiverReport, nowMs: number): number | undefined {
    if (r.rttMs !== undefined) this.baseRtt = Math.min(this.baseRtt ?? r.rttMs, r.rttMs);
    const rttRise = r.rttMs !== undefined && this.baseRtt !== undefined ? r.rttMs - this.baseRtt : 0;
    const congested = r.fractionLost > 0.05 || rttRise > 150;
    // A receiver estimate (REMB) is not a ceiling here: a desktop sends little while the screen is
    // still, so the estimate stays low and following it would starve the next burst of motion.
    const ceiling = this.opts.targetBps;
    if (congested) this.cleanSince = undefined;
    else this.cleanSince ??= nowMs;
    if (nowMs - this.lastChangeAt < this.holdMs) return undefined;

    let next = this.current;
    if (congested)
      next = Math.max(this.minBps, Math.round(this.current * (r.fractionLost > 0.2 ? 0.5 : 0.75)));
    else if (this.current > ceiling) next = Math.max(this.minBps, Math.round(ceiling));
    else if (
      this.cleanSince !== undefined &&
      nowMs - this.cleanSince >= this.raiseAfterMs &&
      this.current < ceiling
    ) {
      next = Math.min(ceiling, Math.round(this.current * 1.15));
      this.cleanSince = nowMs;
    }
    if (Math.abs(next - this.current) < this.current * 0.05) return undefined;
    this.current = next;
    this.lastChangeAt = nowMs;
    return next;
  }
}
