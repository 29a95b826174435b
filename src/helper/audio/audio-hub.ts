/**
 * The helper's one audio pipeline (capture → Opus), shared by every viewer that listens: the capture
 * runs only while at least one viewer is subscribed, and each 20 ms frame is encoded once whoever
 * listens.
 *
 * Silence costs nothing: a frame of digital silence (every sample zero, what a monitor delivers while
 * nothing plays) is neither encoded nor sent, after a short hangover of `hangoverFrames` silent packets
 * so the viewer's decoder fades out on real samples instead of concealing a loss. The RTP timestamps
 * follow the capture clock, so the gap reads as a pause (as with Opus DTX), not as lost packets.
 */
import type { Logger } from '../../log/logger.js';
import { errorMessage } from '../../errors/error-text.js';
import type { AudioCapture, AudioError, PcmChunk } from './audio-capture.js';
import { isDigitalSilence, type OpusFrameEncoder } from './opus-encoder.js';

export interface OpusPacket {
  /** One Opus packet of 20 ms. */
  data: Buffer;
  /** Capture time of its first sample, µs (the capture clock). */
  timestampUs: number;
}

/** What one viewer's session sees of the hub. */
export interface AudioFeed {
  /**
   * Starts listening: packets go to `onPacket` until the returned function is called. `onFailed` hears
   * that the session's sound cannot be captured (now, or later when the capture ends by itself).
   */
  subscribe(onPacket: (p: OpusPacket) => void, onFailed?: (reason: string) => void): () => void;
}

export interface AudioHubOptions {
  startCapture(): Promise<AudioCapture>;
  createEncoder(): OpusFrameEncoder;
  log: Pick<Logger, 'debug' | 'info' | 'warn'>;
  /** Silent packets still sent after sound stops (default 5: 100 ms). */
  hangoverFrames?: number;
}

interface Subscriber {
  onPacket(p: OpusPacket): void;
  onFailed?(reason: string): void;
}

const DEFAULT_HANGOVER_FRAMES = 5;

export class AudioHub implements AudioFeed {
  private readonly subscribers = new Set<Subscriber>();
  /** The capture being started or running; undefined while nobody listens. */
  private running: Promise<{ capture: AudioCapture; encoder: OpusFrameEncoder } | undefined> | undefined;
  private silentRun = 0;
  /** Which start is current: a start that fails after a newer one began must not clear the newer. */
  private generation = 0;
  private closed = false;
  /** Frames captured, encoded and sent, and silent frames skipped: for tests and the benchmark. */
  readonly counters = { frames: 0, encoded: 0, skippedSilent: 0 };

  constructor(private readonly opts: AudioHubOptions) {}

  subscribe(onPacket: (p: OpusPacket) => void, onFailed?: (reason: string) => void): () => void {
    const sub: Subscriber = { onPacket, ...(onFailed ? { onFailed } : {}) };
    this.subscribers.add(sub);
    if (this.closed) {
      onFailed?.('the helper is stopping');
    } else if (!this.running) {
      this.running = this.start(++this.generation);
    }
    return () => {
      if (!this.subscribers.delete(sub) || this.subscribers.size > 0) return;
      void this.stop();
    };
  }

  /** Whether a capture is running or starting (nobody listening: false). */
  get active(): boolean {
    return this.running !== undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subscribers.clear();
    await this.stop();
  }

  private async start(
    generation: number,
  ): Promise<{ capture: AudioCapture; encoder: OpusFrameEncoder } | undefined> {
    let capture: AudioCapture;
    let encoder: OpusFrameEncoder;
    try {
      encoder = this.opts.createEncoder();
      try {
        capture = await this.opts.startCapture();
      } catch (err) {
        encoder.close();
        throw err;
      }
    } catch (err) {
      const reason = errorMessage(err);
      this.opts.log.warn({ err: reason }, 'no audio from this session');
      if (this.generation === generation) this.running = undefined;
      this.fail(reason);
      return undefined;
    }
    this.silentRun = 0;
    capture.onPcm((chunk) => this.frame(encoder, chunk));
    capture.onEnded((err: AudioError) => {
      void this.stop().then(() => this.fail(err.message));
    });
    return { capture, encoder };
  }

  private frame(encoder: OpusFrameEncoder, chunk: PcmChunk): void {
    this.counters.frames++;
    if (isDigitalSilence(chunk.data)) {
      this.silentRun++;
      if (this.silentRun > (this.opts.hangoverFrames ?? DEFAULT_HANGOVER_FRAMES)) {
        this.counters.skippedSilent++;
        return;
      }
    } else {
      this.silentRun = 0;
    }
    let data: Buffer;
    try {
      data = encoder.encode(chunk.data);
    } catch (err) {
      this.opts.log.warn({ err: errorMessage(err) }, 'Opus encode failed: frame dropped');
      return;
    }
    this.counters.encoded++;
    const packet = { data, timestampUs: chunk.timestampUs };
    for (const s of [...this.subscribers]) s.onPacket(packet);
  }

  private fail(reason: string): void {
    for (const s of [...this.subscribers]) s.onFailed?.(reason);
  }

  private async stop(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    const got = await running;
    if (!got) return;
    got.encoder.close();
    await got.capture.close();
    this.opts.log.debug({ ...this.counters }, 'audio capture stopped');
  }
}
