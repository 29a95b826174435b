/**
 * H.264 through @napi-rs/webcodecs' `VideoEncoder` (FFmpeg's libx264, or a hardware encoder, inside
 * this process).
 *
 * What this binding really does (checked by test/helper/encode/webcodecs-encoder.test.ts):
 * - `latencyMode: 'realtime'` sets x264's keyint to 10 (an IDR every 10 frames, ~30 % more bytes);
 *   `'quality'` gives keyint 250 with the same zero-latency options otherwise (bframes=0,
 *   rc_lookahead=0, sliced threads). With software x264 we use `'quality'`; with hardware, whose
 *   "quality" presets may add lookahead, `'realtime'`.
 * - Annex-B output repeats SPS/PPS in every keyframe; `encode(frame, {keyFrame: true})` gives an IDR
 *   at that very frame.
 * - The codec string's profile is not applied: x264 writes High profile whatever `avc1.42…` says.
 *   Chromium and Firefox decode it; a viewer that only takes Constrained Baseline needs the ffmpeg
 *   encoder, which honours the profile.
 * - There is no win32 binary of 1.3.1 in the npm registry; on Windows use the ffmpeg encoder until one
 *   exists.
 */
import { monotonicUs } from '../capture/clock.js';
import {
  EncoderError,
  validateConfig,
  type EncodeOptions,
  type EncodedFrame,
  type Encoder,
  type EncoderConfig,
  type EncoderOptions,
  type RawFrame,
} from './encoder.js';
import { DEFAULT_PROFILE_LEVEL_ID, levelFor, parseProfileLevelId } from './h264-profile.js';
import { errorMessage } from '../../errors/error-text.js';

interface Pending {
  timestamp: number;
  captureTimestampUs: number;
  width: number;
  height: number;
  resolve(frame: EncodedFrame): void;
  reject(err: Error): void;
}

/**
 * @napi-rs/webcodecs is an optional peer dependency: its per-platform binaries are not all in every
 * registry, so porthole does not make installs depend on it. It implements the W3C WebCodecs API, so
 * the DOM library's declarations type it. Install it (`npm install @napi-rs/webcodecs`) to use it.
 */
export const WEBCODECS_PACKAGE = '@napi-rs/webcodecs';
interface WebCodecsBinding {
  VideoEncoder: typeof globalThis.VideoEncoder;
  VideoFrame: typeof globalThis.VideoFrame;
}
let binding: WebCodecsBinding | undefined;

export async function loadWebCodecs(): Promise<WebCodecsBinding> {
  if (binding) return binding;
  const name: string = WEBCODECS_PACKAGE; // a variable, so bundlers and tsc leave the import alone
  try {
    binding = (await import(name)) as WebCodecsBinding;
  } catch (err) {
    throw new EncoderError(
      'unavailable',
      `the webcodecs encoder needs the optional package ${WEBCODECS_PACKAGE} (npm install ${WEBCODECS_PACKAGE}): ${errorMessage(err).split('\n')[0]}`,
      { cause: err },
    );
  }
  return binding;
}

export class WebCodecsEncoder implements Encoder {
  readonly kind = 'webcodecs' as const;
  readonly description: string;
  private encoder: VideoEncoder;
  private readonly pending: Pending[] = [];
  private keyframeRequested = true;
  private reconfigure = false;
  private lastTimestamp = -1;
  private failure: Error | undefined;
  private closed = false;
  private config: EncoderConfig;

  static create(config: EncoderConfig, options: EncoderOptions = {}): WebCodecsEncoder {
    return new WebCodecsEncoder(config, options.preferHardware ?? false);
  }

  private constructor(
    config: EncoderConfig,
    private readonly preferHardware: boolean,
  ) {
    this.config = { ...config };
    this.description = `${preferHardware ? 'hardware if present, else libx264' : 'libx264'} via @napi-rs/webcodecs`;
    this.encoder = this.createVideoEncoder();
  }

  /**
   * A new VideoEncoder for the current settings. Calling `configure()` again on a running one is
   * legal WebCodecs, but this binding then holds every output until `flush()`; a fresh instance
   * answers frame by frame again (and starts with a keyframe, which a new size needs anyway).
   */
  private createVideoEncoder(): VideoEncoder {
    const encoder = new (binding as WebCodecsBinding).VideoEncoder({
      output: (chunk) => this.onOutput(chunk),
      error: (err) => this.fail(new EncoderError('failed', `VideoEncoder: ${err.message}`, { cause: err })),
    });
    encoder.configure(this.videoEncoderConfig());
    return encoder;
  }

  private videoEncoderConfig(): VideoEncoderConfig {
    const { width, height, fps, bitrate } = this.config;
    const profile = parseProfileLevelId(this.config.profileLevelId ?? DEFAULT_PROFILE_LEVEL_ID);
    const level = levelFor(width, height, fps, profile.levelIdc);
    const hex = (n: number): string => n.toString(16).padStart(2, '0');
    return {
      codec: `avc1.${hex(profile.profileIdc)}${hex(profile.constraints)}${hex(level)}`,
      width,
      height,
      bitrate,
      framerate: fps,
      bitrateMode: 'constant',
      hardwareAcceleration: this.preferHardware ? 'prefer-hardware' : 'prefer-software',
      latencyMode: this.preferHardware ? 'realtime' : 'quality',
      avc: { format: 'annexb' },
    };
  }

  encode(frame: RawFrame, options: EncodeOptions = {}): Promise<EncodedFrame> {
    if (this.closed) return Promise.reject(new EncoderError('closed', 'encode on a closed encoder'));
    if (this.failure) return Promise.reject(this.failure);
    if (frame.width !== this.config.width || frame.height !== this.config.height) {
      this.config = { ...this.config, width: frame.width, height: frame.height };
      validateConfig(this.config);
      this.reconfigure = true;
    }
    if (this.reconfigure) {
      this.reconfigure = false;
      const old = this.encoder;
      this.encoder = this.createVideoEncoder();
      this.keyframeRequested = true;
      // Frames still inside the old instance come out through the shared output callback.
      void old
        .flush()
        .catch(() => undefined)
        .finally(() => old.close());
    }
    const keyFrame = this.keyframeRequested || options.keyFrame === true;
    this.keyframeRequested = false;
    // Strictly increasing, and in real time so the rate control sees the true frame spacing.
    const timestamp = Math.max(this.lastTimestamp + 1, monotonicUs());
    this.lastTimestamp = timestamp;
    return new Promise<EncodedFrame>((resolve, reject) => {
      this.pending.push({
        timestamp,
        captureTimestampUs: frame.timestampUs,
        width: frame.width,
        height: frame.height,
        resolve,
        reject,
      });
      let videoFrame: VideoFrame | undefined;
      try {
        videoFrame = new (binding as WebCodecsBinding).VideoFrame(frame.data, {
          format: frame.format,
          codedWidth: frame.width,
          codedHeight: frame.height,
          timestamp,
          layout: [{ offset: 0, stride: frame.stride }],
        });
        this.encoder.encode(videoFrame, { keyFrame });
      } catch (err) {
        this.pending.pop();
        reject(new EncoderError('failed', `VideoEncoder.encode: ${errorMessage(err)}`, { cause: err }));
      } finally {
        // The VideoFrame copied the pixels; the capture buffer is free again.
        videoFrame?.close();
      }
    });
  }

  private onOutput(chunk: EncodedVideoChunk): void {
    const data = Buffer.allocUnsafe(chunk.byteLength);
    chunk.copyTo(data);
    // One chunk per frame, in order; a chunk whose frame is not first means frames were dropped.
    while (this.pending.length > 0 && (this.pending[0]?.timestamp ?? 0) < chunk.timestamp) {
      this.pending.shift()?.reject(new EncoderError('dropped', 'the encoder dropped this frame'));
    }
    const p = this.pending[0];
    if (!p || p.timestamp !== chunk.timestamp) return;
    this.pending.shift();
    p.resolve({
      data,
      keyframe: chunk.type === 'key',
      timestampUs: monotonicUs(),
      captureTimestampUs: p.captureTimestampUs,
      width: p.width,
      height: p.height,
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.splice(0)) p.reject(err);
  }

  requestKeyframe(): void {
    this.keyframeRequested = true;
  }

  setBitrate(bps: number): void {
    if (bps === this.config.bitrate) return;
    this.config = { ...this.config, bitrate: bps };
    validateConfig(this.config);
    this.reconfigure = true;
  }

  setFps(fps: number): void {
    if (fps === this.config.fps) return;
    this.config = { ...this.config, fps };
    validateConfig(this.config);
    this.reconfigure = true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.encoder.state === 'configured') await this.encoder.flush();
    } catch {
      // Closing anyway; frames still pending are rejected below.
    }
    this.encoder.close();
    this.fail(new EncoderError('closed', 'encoder closed'));
  }
}
