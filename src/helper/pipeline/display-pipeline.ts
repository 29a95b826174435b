/**
 * One display's capture → encode chain, shared by every viewer of that display whose codec settings
 * agree (same H.264 profile-level-id). It runs while it has subscribers, and encodes nothing while the
 * screen is static apart from the capture loop's periodic refresh, which keeps late decoders fed.
 */
import type { Capturer, CapturedFrame, FrameSource } from '../capture/capturer.js';
import { startCaptureLoop, type CaptureLoop } from '../capture/capture-loop.js';
import type { EncodedAccessUnit } from '../desktop/video-source.js';
import type { Encoder, EncoderKind } from '../encode/encoder.js';
import { createEncoder } from '../encode/index.js';
import { errorMessage } from '../../errors/error-text.js';
import { type Logger } from '../../log/logger.js';
import { realTimers, type TimerHandle, type Timers } from '../../time/timers.js';

export interface PipelineSettings {
  fps: number;
  /** Bits per second; 0 picks one from the display size and fps. */
  bitrate: number;
  encoder?: EncoderKind;
  /** ffmpeg encoder: which H.264 encoder it runs (default libx264; `auto` probes hardware). */
  codec?: string | undefined;
}

/** A bitrate that looks clean for desktop content at this size, within sane bounds. */
export function defaultBitrate(width: number, height: number, fps: number): number {
  return Math.round(Math.min(8_000_000, Math.max(800_000, width * height * fps * 0.07)));
}

/**
 * While the screen is still, the unchanged picture is re-encoded this often (a delta frame of skipped
 * blocks, ~100 bytes). Not for recovery — a PLI or a new viewer makes the capture loop deliver the
 * current picture at once (`requestFrame`) — but because WebRTC receivers ask for a keyframe after 3 s
 * without a frame (Chromium: `kMaxWaitForFrameMs`), and with the ffmpeg encoder a keyframe means a new
 * process: at 10 s this cost 6 % of a core on a still screen instead of ~2 % (design/BENCHMARKS.md).
 */
export const STATIC_REFRESH_MS = 2500;
/** How soon to offer the encoder another frame when it put off a keyframe. */
const KEYFRAME_RETRY_MS = 100;

export class DisplayPipeline {
  private readonly subscribers = new Set<(unit: EncodedAccessUnit) => void>();
  private loop: CaptureLoop | undefined;
  private source: FrameSource | undefined;
  private encoder: Encoder | undefined;
  private encoderStarting: Promise<Encoder> | undefined;
  private keyframeWanted = true;
  private bitrate: number;
  private fps: number;
  private closed = false;
  private keyRetry: TimerHandle | undefined;
  /** Encoded access units, for stats and tests. */
  encodedFrames = 0;

  constructor(
    private readonly capturer: Capturer,
    readonly displayIndex: number,
    readonly profileLevelId: string,
    private readonly settings: PipelineSettings,
    private readonly log: Pick<Logger, 'debug' | 'info' | 'warn'>,
    /** The capture loop's pacing and the keyframe retry run on these; tests pass a fake clock. */
    private readonly timers: Timers = realTimers,
  ) {
    const d = capturer.displays()[displayIndex];
    if (!d) throw new RangeError(`no display ${displayIndex}`);
    this.fps = settings.fps;
    this.bitrate = settings.bitrate || defaultBitrate(d.width, d.height, settings.fps);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  subscribe(listener: (unit: EncodedAccessUnit) => void): () => void {
    this.subscribers.add(listener);
    this.keyframeWanted = true;
    if (!this.loop && !this.closed) this.start();
    else this.loop?.requestFrame();
    return () => {
      this.subscribers.delete(listener);
    };
  }

  requestKeyframe(): void {
    this.keyframeWanted = true;
    this.loop?.requestFrame();
  }

  setRate(rate: { bitrate?: number; fps?: number }): void {
    if (rate.bitrate && rate.bitrate !== this.bitrate) {
      this.bitrate = rate.bitrate;
      this.encoder?.setBitrate(rate.bitrate);
    }
    if (rate.fps && rate.fps !== this.fps) {
      this.fps = rate.fps;
      this.encoder?.setFps(rate.fps);
      this.loop?.setFps(rate.fps);
    }
  }

  get currentRate(): { bitrate: number; fps: number } {
    return { bitrate: this.bitrate, fps: this.fps };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.timers.clearTimeout(this.keyRetry);
    this.subscribers.clear();
    await this.loop?.stop();
    this.loop = undefined;
    this.source?.close();
    this.source = undefined;
    await (this.encoder ?? (await this.encoderStarting?.catch(() => undefined)))?.close();
    this.encoder = undefined;
  }

  private start(): void {
    this.source = this.capturer.openFrameSource(this.displayIndex);
    this.loop = startCaptureLoop(this.source, {
      fps: this.fps,
      refreshIntervalMs: STATIC_REFRESH_MS,
      timers: this.timers,
      onFrame: (frame) => this.encodeFrame(frame),
      onError: (err) =>
        this.log.warn({ err: errorMessage(err), display: this.displayIndex }, 'capture/encode failed'),
    });
  }

  private async encodeFrame(frame: CapturedFrame): Promise<void> {
    if (this.subscribers.size === 0) return;
    const encoder = await this.getEncoder(frame);
    const keyFrame = this.keyframeWanted;
    this.keyframeWanted = false;
    const out = await encoder.encode(frame, { keyFrame });
    if (keyFrame && !out.keyframe) {
      this.keyframeWanted = true;
      this.retryKeyframe();
    }
    if (out.data.length === 0) return;
    this.encodedFrames += 1;
    const unit: EncodedAccessUnit = {
      data: out.data,
      timestampUs: out.captureTimestampUs,
      keyframe: out.keyframe,
    };
    for (const s of this.subscribers) s(unit);
  }

  /**
   * An encoder may rate-limit keyframes (the ffmpeg one swaps processes at most every 250 ms) and
   * answer a request with a delta frame; it makes the keyframe on a later frame. On a still screen
   * that frame would only come with the periodic refresh: ask for one again shortly instead.
   */
  private retryKeyframe(): void {
    if (this.keyRetry || this.closed) return;
    this.keyRetry = this.timers.setTimeout(() => {
      this.keyRetry = undefined;
      this.loop?.requestFrame();
    }, KEYFRAME_RETRY_MS);
    this.keyRetry.unref();
  }

  private async getEncoder(frame: CapturedFrame): Promise<Encoder> {
    if (this.encoder) return this.encoder;
    this.encoderStarting ??= createEncoder(
      {
        width: frame.width,
        height: frame.height,
        fps: this.fps,
        bitrate: this.bitrate,
        profileLevelId: this.profileLevelId,
      },
      {
        ...(this.settings.encoder ? { kind: this.settings.encoder } : {}),
        ...(this.settings.codec ? { ffmpegCodec: this.settings.codec } : {}),
      },
    );
    this.encoder = await this.encoderStarting;
    this.log.info(
      { display: this.displayIndex, encoder: this.encoder.description, bitrate: this.bitrate, fps: this.fps },
      'encoder started',
    );
    return this.encoder;
  }
}
