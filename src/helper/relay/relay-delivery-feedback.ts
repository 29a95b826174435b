/**
 * Receiver statistics for a viewer on the WebSocket relay, made from its acks, so that the same
 * bitrate controller as for WebRTC viewers (pipeline/bitrate-controller.ts) adapts its stream. The
 * viewer acks every video frame it reads; the API passes the acks on to a helper that asked
 * (`acks=1`, design/API.md "WebSocket relay") and drops video to the next keyframe when the viewer
 * falls behind. So, per frame the helper sent:
 *
 * - acked: delivered; now − when it was sent is a round-trip sample that includes the time the frame
 *   waited in the API's queue for the viewer: a slow link shows as a rising RTT before anything drops;
 * - not acked when a later frame is: the API dropped it (the socket is ordered), counted as lost.
 *
 * The controller counts loss in packets over windows of at least 100 of them, so frames are counted in
 * units of RELAY_VIRTUAL_PACKET_BYTES, about an RTP packet. A report is made at most every
 * REPORT_INTERVAL_MS, on an ack (no timer); its RTT is the median of the samples since the last one.
 */
import type { VideoReceiverStats } from '../webrtc/video-feedback.js';

export const RELAY_VIRTUAL_PACKET_BYTES = 1200;
export const REPORT_INTERVAL_MS = 500;
/** Frames awaiting their ack at most; older ones are counted lost (a viewer that stopped acking). */
export const MAX_TRACKED_FRAMES = 2048;

interface SentFrame {
  timestampUs: number;
  bytes: number;
  sentAtMs: number;
}

export class RelayDeliveryFeedback {
  private readonly pending: SentFrame[] = [];
  private resolvedBytes = 0;
  private lostBytes = 0;
  private rttSamples: number[] = [];
  private lastReportAt: number | undefined;
  private reported = { highestSequence: 0, cumulativeLost: 0 };
  private latest: VideoReceiverStats | undefined;

  get stats(): VideoReceiverStats | undefined {
    return this.latest;
  }

  /** A video frame went out on the socket. */
  onSent(timestampUs: number, bytes: number, nowMs: number): void {
    this.pending.push({ timestampUs, bytes, sentAtMs: nowMs });
    while (this.pending.length > MAX_TRACKED_FRAMES) this.lose(this.pending.shift()!);
  }

  /** The viewer read the frame of this timestamp: a report when one is due, else undefined. */
  onAck(timestampUs: number, nowMs: number): VideoReceiverStats | undefined {
    const at = this.indexOf(timestampUs);
    if (at < 0) return undefined; // not ours, or already counted: nothing learnt
    for (const dropped of this.pending.splice(0, at)) this.lose(dropped);
    const frame = this.pending.shift()!;
    this.resolvedBytes += frame.bytes;
    this.rttSamples.push(nowMs - frame.sentAtMs);
    if (this.lastReportAt !== undefined && nowMs - this.lastReportAt < REPORT_INTERVAL_MS) return undefined;
    return this.report(nowMs);
  }

  /**
   * Frames go out in capture order, so `pending` is sorted by timestamp: a binary search keeps a
   * viewer that floods forged acks (they cross the API untouched) from costing a scan each.
   */
  private indexOf(timestampUs: number): number {
    let lo = 0;
    let hi = this.pending.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const t = this.pending[mid]!.timestampUs;
      if (t === timestampUs) return mid;
      if (t < timestampUs) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private lose(frame: SentFrame): void {
    this.resolvedBytes += frame.bytes;
    this.lostBytes += frame.bytes;
  }

  private report(nowMs: number): VideoReceiverStats {
    const highestSequence = Math.ceil(this.resolvedBytes / RELAY_VIRTUAL_PACKET_BYTES);
    const cumulativeLost = Math.ceil(this.lostBytes / RELAY_VIRTUAL_PACKET_BYTES);
    const expected = highestSequence - this.reported.highestSequence;
    const lost = cumulativeLost - this.reported.cumulativeLost;
    const sorted = this.rttSamples.sort((a, b) => a - b);
    const rttMs = sorted.length ? sorted[Math.floor(sorted.length / 2)] : this.latest?.rttMs;
    this.rttSamples = [];
    this.reported = { highestSequence, cumulativeLost };
    this.lastReportAt = nowMs;
    this.latest = {
      fractionLost: expected > 0 ? Math.min(1, Math.max(0, lost / expected)) : 0,
      cumulativeLost,
      highestSequence,
      jitterMs: 0,
      rttMs,
      estimatedBitrate: undefined,
      updatedAt: nowMs,
    };
    return this.latest;
  }
}
