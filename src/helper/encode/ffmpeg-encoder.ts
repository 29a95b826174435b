/**
 * H.264 through ffmpeg child processes.
 *
 * The ffmpeg CLI cannot be told to make an IDR while it runs. So a spare process with the current
 * settings waits, already started, and a keyframe request (or a new bitrate, fps or size) moves the
 * next frame to it: a fresh encoder's first frame is an IDR. The old process finishes the frames it
 * has and exits; a new spare is started behind it. Swaps are rate-limited, because a browser repeats
 * its PLI every ~200 ms until the keyframe arrives.
 */
import type { PixelFormat } from '../capture/capturer.js';
import {
  validateConfig,
  EncoderError,
  type EncodeOptions,
  type EncodedFrame,
  type Encoder,
  type EncoderConfig,
  type EncoderOptions,
  type RawFrame,
} from './encoder.js';
import { findFfmpeg } from './ffmpeg-binary.js';
import { FfmpegProcess } from './ffmpeg-process.js';
import { checkFfmpegEncoder } from './ffmpeg-probe.js';
import { pickFfmpegH264Codec } from './hardware-probe.js';

/** At most one process swap this often; a later request waits for the next allowed frame. */
const MIN_SWAP_INTERVAL_MS = 250;

export class FfmpegEncoder implements Encoder {
  readonly kind = 'ffmpeg' as const;
  readonly description: string;
  private active: FfmpegProcess | undefined;
  private spare: FfmpegProcess | undefined;
  private config: EncoderConfig;
  private keyframeRequested = false;
  private lastSwapAt = -Infinity;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly retiring = new Set<Promise<void>>();

  static async create(config: EncoderConfig, options: EncoderOptions = {}): Promise<FfmpegEncoder> {
    const binary = findFfmpeg({ configured: options.ffmpegPath });
    // 'auto': the first hardware encoder that passes a one-frame trial (hardware-probe.ts), else x264.
    const codec =
      options.ffmpegCodec === 'auto' ? await pickFfmpegH264Codec(binary) : (options.ffmpegCodec ?? 'libx264');
    await checkFfmpegEncoder(binary, codec);
    return new FfmpegEncoder(binary, codec, config);
  }

  private constructor(
    private readonly binary: string,
    private readonly codec: string,
    config: EncoderConfig,
  ) {
    this.config = { ...config };
    this.description = `${codec} in ffmpeg (${binary})`;
  }

  /** The pids of the ffmpeg processes alive now (for CPU accounting). */
  pids(): number[] {
    return [this.active?.pid, this.spare?.pid].filter((p): p is number => p !== undefined);
  }

  encode(frame: RawFrame, options: EncodeOptions = {}): Promise<EncodedFrame> {
    if (this.closed) return Promise.reject(new EncoderError('closed', 'encode on a closed encoder'));
    if (frame.width !== this.config.width || frame.height !== this.config.height) {
      this.config = { ...this.config, width: frame.width, height: frame.height };
      validateConfig(this.config);
    }
    if (options.keyFrame) this.keyframeRequested = true;
    const proc = this.processFor(frame.format);
    const result = proc.encode(frame);
    // Frames of a retiring process may still be in flight: resolve in submission order regardless.
    const ordered = this.tail.then(
      () => result,
      () => result,
    );
    this.tail = ordered.catch(() => undefined);
    this.prepareSpare(frame.format);
    return ordered;
  }

  private processFor(format: PixelFormat): FfmpegProcess {
    const now = performance.now();
    const stale = this.active && !this.matches(this.active, format);
    const wantKey = this.keyframeRequested && now - this.lastSwapAt >= MIN_SWAP_INTERVAL_MS;
    if (this.active && !stale && !wantKey) return this.active;
    if (this.active) this.retire(this.active);
    const spare = this.spare && this.matches(this.spare, format) ? this.spare : undefined;
    if (this.spare && !spare) this.retire(this.spare);
    this.spare = undefined;
    this.active = spare ?? new FfmpegProcess(this.binary, this.config, this.codec, format);
    // Only swaps made for a keyframe request count toward the rate limit.
    if (wantKey) this.lastSwapAt = now;
    this.keyframeRequested = false;
    return this.active;
  }

  private prepareSpare(format: PixelFormat): void {
    if (this.spare && this.matches(this.spare, format)) return;
    if (this.spare) this.retire(this.spare);
    this.spare = new FfmpegProcess(this.binary, this.config, this.codec, format);
  }

  private matches(p: FfmpegProcess, format: PixelFormat): boolean {
    const a = p.config;
    const b = this.config;
    return (
      p.format === format &&
      a.width === b.width &&
      a.height === b.height &&
      a.fps === b.fps &&
      a.bitrate === b.bitrate &&
      a.profileLevelId === b.profileLevelId
    );
  }

  private retire(p: FfmpegProcess): void {
    const done = p.close().finally(() => this.retiring.delete(done));
    this.retiring.add(done);
  }

  requestKeyframe(): void {
    this.keyframeRequested = true;
  }

  setBitrate(bps: number): void {
    this.config = { ...this.config, bitrate: bps };
    validateConfig(this.config);
  }

  setFps(fps: number): void {
    this.config = { ...this.config, fps };
    validateConfig(this.config);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.active) this.retire(this.active);
    if (this.spare) this.retire(this.spare);
    this.active = undefined;
    this.spare = undefined;
    await Promise.all([...this.retiring]);
  }
}
