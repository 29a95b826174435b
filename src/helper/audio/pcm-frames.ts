/**
 * Cuts a PCM byte stream, which arrives in whatever pieces the capture program writes, into the
 * encoder's fixed frames (20 ms: 960 sample frames, 3840 bytes), each stamped on the capture clock.
 *
 * The clock: the time the first bytes arrived, minus their duration, is when the first sample was
 * captured; every later frame is that plus the samples before it. Timestamps therefore advance by
 * exactly one frame per frame (the RTP timestamps stay contiguous) and do not wobble with the pipe's
 * scheduling. If the stream falls behind the wall clock by more than `resyncUs` (the server paused the
 * monitor, samples were lost), the clock is set again from the arrival time.
 */
import { AUDIO_FRAME_BYTES, AUDIO_SAMPLE_RATE, type PcmChunk } from './audio-capture.js';

export const FRAME_MS = 20;
export const SAMPLES_PER_FRAME = (AUDIO_SAMPLE_RATE * FRAME_MS) / 1000;
export const FRAME_BYTES = SAMPLES_PER_FRAME * AUDIO_FRAME_BYTES;
const DEFAULT_RESYNC_US = 200_000;

export class PcmFramer {
  private pending: Buffer = Buffer.alloc(0);
  private startUs: number | undefined;
  /** Sample frames handed out since startUs. */
  private samples = 0;

  constructor(private readonly resyncUs = DEFAULT_RESYNC_US) {}

  /** Takes the bytes that arrived at `arrivalUs`; returns the whole frames they complete. */
  push(bytes: Buffer, arrivalUs: number): PcmChunk[] {
    const buffered = this.pending.length + bytes.length;
    const bufferedUs = ((buffered / AUDIO_FRAME_BYTES) * 1e6) / AUDIO_SAMPLE_RATE;
    // The first sample not yet handed out was captured this long before the last one just arrived.
    const earliestUs = arrivalUs - bufferedUs;
    if (this.startUs === undefined || earliestUs - this.nextUs() > this.resyncUs) {
      this.startUs = earliestUs;
      this.samples = 0;
    }
    this.pending = this.pending.length ? Buffer.concat([this.pending, bytes]) : bytes;
    const frames: PcmChunk[] = [];
    let offset = 0;
    while (this.pending.length - offset >= FRAME_BYTES) {
      frames.push({
        data: Buffer.from(this.pending.subarray(offset, offset + FRAME_BYTES)),
        timestampUs: this.nextUs(),
      });
      this.samples += SAMPLES_PER_FRAME;
      offset += FRAME_BYTES;
    }
    this.pending = Buffer.from(this.pending.subarray(offset));
    return frames;
  }

  private nextUs(): number {
    return (this.startUs ?? 0) + Math.round((this.samples * 1e6) / AUDIO_SAMPLE_RATE);
  }
}
