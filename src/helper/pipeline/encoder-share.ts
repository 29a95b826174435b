/**
 * What share of the bytes a viewer's sender puts on the path its encoder made: the rest is FEC and
 * retransmissions. The bitrate controller judges the path by everything sent, so the rate it allows
 * is for the whole stream; the encoder must be given only its share of it. Without this, a drop to
 * 0.85 × the delivered rate with ~20 % of FEC and resends on top (the `bad` profile) still offered the
 * link what it had just failed to deliver, and its queue never drained.
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
  resentBytes: number;
}

export class EncoderShare {
  private last: SenderByteCounts = { bytesSent: 0, fecBytes: 0, resentBytes: 0 };
  private share = 1;

  /** The share now, from the sender's running totals. */
  read(now: SenderByteCounts): number {
    const total = now.bytesSent + now.resentBytes - (this.last.bytesSent + this.last.resentBytes);
    if (total < MIN_BYTES) return this.share;
    const overhead = now.fecBytes + now.resentBytes - (this.last.fecBytes + this.last.resentBytes);
    this.last = { ...now };
    this.share = Math.min(1, Math.max(MIN_SHARE, (total - overhead) / total));
    return this.share;
  }
}
