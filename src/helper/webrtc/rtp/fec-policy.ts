/**
 * When the video sender adds forward error correction (ulpfec.ts). FEC costs a packet per group on
 * every frame, worth it only where packets are lost: it is on from the start (a lossy path's first
 * keyframe is where a lost packet hurts most, and the first seconds tell nothing yet) and is judged
 * each second by what the viewer NACKs, which it does for every gap it sees before any recovery:
 * NACKed sequence numbers ≥ 1 % of the packets sent keeps or turns it on; below 0.5 % for 10 s in a
 * row turns it off. A second with fewer than 50 packets (a still screen) is not judged.
 */
export const FEC_ON_LOSS = 0.01;
export const FEC_OFF_LOSS = 0.005;
export const FEC_OFF_AFTER_MS = 10_000;
const WINDOW_MS = 1000;
const WINDOW_MIN_PACKETS = 50;

export class FecPolicy {
  private on = true;
  private windowStart: number;
  private sent = 0;
  private nacked = 0;
  private cleanSince: number | undefined;

  constructor(nowMs: number) {
    this.windowStart = nowMs;
  }

  onSent(packets: number): void {
    this.sent += packets;
  }

  /** Sequence numbers the viewer asked for again (repeats included: they err toward FEC). */
  onNacked(sequences: number): void {
    this.nacked += sequences;
  }

  /** Whether the next frame goes out with FEC. */
  active(nowMs: number): boolean {
    if (nowMs - this.windowStart < WINDOW_MS) return this.on;
    if (this.sent >= WINDOW_MIN_PACKETS) {
      const loss = this.nacked / this.sent;
      if (loss >= FEC_ON_LOSS) {
        this.on = true;
        this.cleanSince = undefined;
      } else if (loss < FEC_OFF_LOSS) {
        this.cleanSince ??= this.windowStart;
        if (nowMs - this.cleanSince >= FEC_OFF_AFTER_MS) this.on = false;
      } else this.cleanSince = undefined;
    }
    this.windowStart = nowMs;
    this.sent = 0;
    this.nacked = 0;
    return this.on;
  }
}
