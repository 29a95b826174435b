/**
 * One display's capture → encode chain, shared by every viewer of that display whose codec settings
 * agree (same H.264 profile-level-id). It runs while it has subscribers, and encodes nothing while the
 * screen is static apart from the capture loop's periodic refresh, which keeps late decoders fed.
 *
 * Its frame rate and bitrate belong to no single viewer: each subscriber states what it wants
 * (`ViewerRate`) and the encoder runs at `sharedRate` of all of them, recomputed whenever one joins,
 * changes its mind or leaves, so a viewer's wishes end with it (design/MEDIA.md, "Several viewers").
 */
import type { Capturer, CapturedFrame, FrameSource } from '../capture/capturer.js';
import { startCaptureLoop, type CaptureLoop } from '../capture/capture-loop.js';
import type { EncodedAccessUnit } from '../desktop/video-source.js';
import type { Encoder, EncoderChoice, EncoderConfig, EncoderOptions } from '../encode/encoder.js';
import { createEncoder } from '../encode/index.js';
import { errorMessage } from '../../errors/error-text.js';
import { type Logger } from '../../log/logger.js';
import { realTimers, type TimerHandle, type Timers } from '../../time/timers.js';
import { frameRateForBitrate } from './frame-rate-for-bitrate.js';
import { halveFrame } from './halve-frame.js';
import { pictureScaleFor, scaledSize, type PictureScale, type ResolutionMode } from './picture-scale.js';

export interface PipelineSettings {
  fps: number;
  /** Bits per second; 0 picks one from the display size and fps. */
  bitrate: number;
  encoder?: EncoderChoice;
  /** ffmpeg encoder: which H.264 encoder it runs (default libx264; `auto` probes hardware). */
  codec?: string | undefined;
  /** `auto` (the default) halves the picture when the bitrate is too thin for it (picture-scale.ts). */
  resolution?: ResolutionMode | undefined;
}

/** Starts an encoder; `createEncoder` unless a test hands the pipeline a fake. */
export type EncoderFactory = (config: EncoderConfig, options: EncoderOptions) => Promise<Encoder>;

/**
 * What one viewer wants of the stream it shares with the other viewers of its display. An absent field
 * means "the pipeline's default", never "whatever the others chose".
 */
export interface ViewerRate {
  /** Frames per second the viewer asked for (its `rate` message). */
  fps?: number;
  /** Bits per second the viewer asked for (its `rate` message). */
  bitrate?: number;
  /** The most its network path carries now, as its congestion controller judges; absent: no limit. */
  pathBitrate?: number;
}

export interface RateSettings {
  fps: number;
  bitrate: number;
}

/**
 * The rate one shared encoder runs at for all its viewers: the highest frame rate any of them wants
 * (a viewer cannot be sent fewer frames than the encoder makes, and a smoother stream costs the others
 * only bits), and the lowest bitrate any of them wants or its path carries (every viewer receives the
 * same bits, so the slowest path sets the pace). With no viewers, the defaults.
 */
export function sharedRate(defaults: RateSettings, viewers: Iterable<ViewerRate>): RateSettings {
  let fps: number | undefined;
  let bitrate: number | undefined;
  for (const v of viewers) {
    fps = Math.max(fps ?? 0, v.fps ?? defaults.fps);
    bitrate = Math.min(bitrate ?? Infinity, v.bitrate ?? defaults.bitrate, v.pathBitrate ?? Infinity);
  }
  return { fps: fps ?? defaults.fps, bitrate: bitrate ?? defaults.bitrate };
}

/** One viewer's hold on a pipeline. */
export interface PipelineSubscription {
  /** Replaces what this viewer wants; the shared rate is recomputed. */
  setRate(rate: ViewerRate): void;
  /** Stops the frames and withdraws this viewer's rate (idempotent). */
  unsubscribe(): void;
}

interface Subscriber {
  listener: (unit: EncodedAccessUnit) => void;
  rate: ViewerRate;
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
  private readonly subscribers = new Set<Subscriber>();
  private loop: CaptureLoop | undefined;
  private source: FrameSource | undefined;
  private encoder: Encoder | undefined;
  private encoderStarting: Promise<Encoder> | undefined;
  private keyframeWanted = true;
  /** The rate with no viewer asking for anything: from the helper's settings and the display size. */
  private readonly defaults: RateSettings;
  private bitrate: number;
  private fps: number;
  /** The captured picture's size: the display's, then the frames'. */
  private size: { width: number; height: number };
  /** 2 while the encoder gets frames halved in each direction (picture-scale.ts). */
  private scale: PictureScale = 1;
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
    private readonly openEncoder: EncoderFactory = createEncoder,
  ) {
    const d = capturer.displays()[displayIndex];
    if (!d) throw new RangeError(`no display ${displayIndex}`);
    this.defaults = {
      fps: settings.fps,
      bitrate: settings.bitrate || defaultBitrate(d.width, d.height, settings.fps),
    };
    this.size = { width: d.width, height: d.height };
    this.bitrate = this.defaults.bitrate;
    this.scale = this.scaleFor(this.bitrate);
    const encoded = scaledSize(d.width, d.height, this.scale);
    this.fps = frameRateForBitrate(this.defaults.fps, this.defaults.bitrate, encoded.width, encoded.height);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Adds a viewer, with what it wants of the rate (the shared rate follows at once). */
  subscribe(listener: (unit: EncodedAccessUnit) => void, rate: ViewerRate = {}): PipelineSubscription {
    const sub: Subscriber = { listener, rate: { ...rate } };
    this.subscribers.add(sub);
    this.applyRate();
    this.keyframeWanted = true;
    if (!this.loop && !this.closed) {
      try {
        this.start();
      } catch (err) {
        this.subscribers.delete(sub);
        this.applyRate();
        throw err;
      }
    } else this.loop?.requestFrame();
    return {
      setRate: (next) => {
        if (!this.subscribers.has(sub)) return;
        sub.rate = { ...next };
        this.applyRate();
      },
      unsubscribe: () => {
        if (this.subscribers.delete(sub)) this.applyRate();
      },
    };
  }

  requestKeyframe(): void {
    this.keyframeWanted = true;
    this.loop?.requestFrame();
  }

  /** The rate the encoder and capture loop run at now. */
  get currentRate(): RateSettings {
    return { bitrate: this.bitrate, fps: this.fps };
  }

  /** The size frames are encoded at now: the captured size, or half of it on a thin link. */
  get encodedSize(): { width: number; height: number } {
    return scaledSize(this.size.width, this.size.height, this.scale);
  }

  private scaleFor(bitrate: number): PictureScale {
    const mode = this.settings.resolution ?? 'auto';
    return pictureScaleFor(mode, bitrate, this.size.width, this.size.height, this.scale);
  }

  /**
   * Brings the encoder and the capture loop to the rate the current viewers share, the picture halved
   * when the bitrate is too thin for it (picture-scale.ts) and the frame rate lowered to what the
   * bitrate feeds at the encoded size (frame-rate-for-bitrate.ts). Bitrate and fps are set together,
   * before the next frame, so the encoder swaps once for both (and for a new size with them).
   */
  private applyRate(): void {
    const shared = sharedRate(
      this.defaults,
      [...this.subscribers].map((s) => s.rate),
    );
    const scale = this.scaleFor(shared.bitrate);
    if (scale !== this.scale) {
      this.scale = scale;
      const { width, height } = this.encodedSize;
      this.log.info(
        { display: this.displayIndex, bitrate: shared.bitrate, width, height },
        scale === 2 ? 'picture halved for a thin link' : 'picture back to full size',
      );
    }
    const encoded = this.encodedSize;
    const next = {
      bitrate: shared.bitrate,
      fps: frameRateForBitrate(shared.fps, shared.bitrate, encoded.width, encoded.height),
    };
    // Each change costs the encoders here a keyframe (a new process or VideoEncoder): only real ones.
    if (next.bitrate !== this.bitrate) {
      this.bitrate = next.bitrate;
      this.encoder?.setBitrate(next.bitrate);
    }
    if (next.fps !== this.fps) {
      this.fps = next.fps;
      this.encoder?.setFps(next.fps);
      this.loop?.setFps(next.fps);
    }
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
    if (frame.width !== this.size.width || frame.height !== this.size.height) {
      // The display changed size: refit the frame rate (the encoder restarts for the size anyway).
      this.size = { width: frame.width, height: frame.height };
      this.applyRate();
    }
    // A new size restarts the encoder, which begins with a keyframe: no request needed.
    const input = this.scale === 2 ? halveFrame(frame) : frame;
    const encoder = await this.getEncoder(input);
    const keyFrame = this.keyframeWanted;
    this.keyframeWanted = false;
    const out = await encoder.encode(input, { keyFrame });
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
      bitrate: this.bitrate,
    };
    for (const s of this.subscribers) s.listener(unit);
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

  private async getEncoder(frame: { width: number; height: number }): Promise<Encoder> {
    if (this.encoder) return this.encoder;
    const asked = this.currentRate;
    this.encoderStarting ??= this.openEncoder(
      {
        width: frame.width,
        height: frame.height,
        fps: asked.fps,
        bitrate: asked.bitrate,
        profileLevelId: this.profileLevelId,
      },
      {
        ...(this.settings.encoder ? { kind: this.settings.encoder } : {}),
        ...(this.settings.codec ? { ffmpegCodec: this.settings.codec } : {}),
        log: this.log,
      },
    );
    this.encoder = await this.encoderStarting;
    // Viewers may have come or gone while it started.
    if (this.bitrate !== asked.bitrate) this.encoder.setBitrate(this.bitrate);
    if (this.fps !== asked.fps) this.encoder.setFps(this.fps);
    this.log.info(
      { display: this.displayIndex, encoder: this.encoder.description, bitrate: this.bitrate, fps: this.fps },
      'encoder started',
    );
    return this.encoder;
  }
}
