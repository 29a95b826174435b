/**
 * What share of the bytes a viewer's sender puts on the path its encoder made, FEC being the rest.
 * The bitrate controller judges the path by everything sent, so the rate it allows is for the whole
 * stream; the encoder must be given only its share of it. Without this, a drop to 0.85 × the
 * delivered rate with ~15 % of FEC on top (the `bad` profile) still offered the link about what it had
 * just failed to deliver, and its queue never drained.
 *
 * Retransmissions are left out on purpose: they come in bursts (a keyframe lost at the start, an
 * outage) and a share measured over one made the encoder run at two thirds of the rate long after
 * the burst, low enough on the `thin` profile to halve the picture and leave the encoder using too
 * little of its rate for the controller ever to raise it. They stay within 25 % of the bitrate
 * (retransmit-history.ts) and count in what the controller sees sent.
 *
 * The share is measured between two reads with at least MIN_BYTES sent, else the last one holds; it
 * starts at 1 and stays within [MIN_SHARE, 1].
 */
export const MIN_SHARE = 0.5;
const MIN_BYTES = 20_000;

export interface SenderByteCounts {
  /** Media and FEC packets sent (retransmissions not included). */
  bytesSent: number;
  fecBytes: number;
}

export class EncoderShare {
  private last: SenderByteCounts = { bytesSent: 0, fecBytes: 0 };
  private share = 1;

  /** The share now, from the sender's running totals. */
  read(now: SenderByteCounts): number {
    const total = now.bytesSent - this.last.bytesSent;
    if (total < MIN_BYTES) return this.share;
    const fec = now.fecBytes - this.last.fecBytes;
    this.last = { bytesSent: now.bytesSent, fecBytes: now.fecBytes };
    this.share = Math.min(1, Math.max(MIN_SHARE, (total - fec) / total));
    return this.share;
  }
}
