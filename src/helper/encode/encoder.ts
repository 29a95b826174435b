/**
 * H.264 encoding of captured frames, configured for latency: no B-frames, no lookahead, one access
 * unit out per frame in, SPS/PPS in front of every IDR, keyframes on request.
 *
 * Three implementations, the first two measured against each other in bench/media.bench.ts (numbers
 * in design/MEDIA.md):
 * - `ffmpeg` (the default): ffmpeg child processes, raw frames in, FLV out, a spare process for
 *   keyframes on request. Lower capture→encoded latency and lower idle CPU here, honours the offered
 *   profile, reaches h264_amf / h264_mf / h264_qsv on Windows, where @napi-rs/webcodecs 1.3.1 has no
 *   binary.
 * - `webcodecs`: in-process `VideoEncoder` from @napi-rs/webcodecs (x264 inside; NVENC/QSV/VAAPI when
 *   present). Its keyframe on request is faster (the next frame, ~25 ms against ~70 ms).
 * - `mf` (Windows): a Media Foundation H.264 encoder MFT in process, hardware first, else Microsoft's
 *   software MFT; NV12 converted on the CPU; keyframes on demand in the same frame.
 *
 * `auto` (the default) picks per platform: on Windows MF hardware → MF software → ffmpeg if present,
 * elsewhere ffmpeg (index.ts).
 */
import { PortholeError } from '../../errors/porthole-error.js';
import type { PixelFormat } from '../capture/capturer.js';
import type { Logger } from '../../log/logger.js';

/** What an encoder needs of a frame; a `CapturedFrame` is one. */
export interface RawFrame {
  data: Uint8Array;
  width: number;
  height: number;
  stride: number;
  format: PixelFormat;
  /** Capture time, monotonic µs (see capture/clock.ts). */
  timestampUs: number;
}

export interface EncodedFrame {
  /** One Annex-B access unit; SPS and PPS come first in every keyframe. */
  data: Buffer;
  keyframe: boolean;
  /** When the encoded data was ready, monotonic µs. */
  timestampUs: number;
  /** The `timestampUs` of the frame it encodes. */
  captureTimestampUs: number;
  width: number;
  height: number;
}

export interface EncoderConfig {
  width: number;
  height: number;
  fps: number;
  /** Target bits per second. */
  bitrate: number;
  /** The viewer's SDP profile-level-id, e.g. `42e01f` (the default). */
  profileLevelId?: string;
}

export interface EncodeOptions {
  keyFrame?: boolean;
}

export interface Encoder {
  readonly kind: EncoderKind;
  /** What actually encodes, e.g. `libx264 via @napi-rs/webcodecs`. */
  readonly description: string;
  /**
   * Encodes one frame; resolves with its access unit, in submission order. `frame.data` must stay
   * unchanged until the promise settles. A frame of another size reconfigures the encoder and starts
   * with a keyframe.
   */
  encode(frame: RawFrame, options?: EncodeOptions): Promise<EncodedFrame>;
  /** The next frame encoded will be a keyframe (the answer to a PLI/FIR). */
  requestKeyframe(): void;
  setBitrate(bps: number): void;
  setFps(fps: number): void;
  close(): Promise<void>;
}

export type EncoderKind = 'webcodecs' | 'ffmpeg' | 'mf';
/** What `--encoder` takes: an encoder, or `auto` (the default). */
export type EncoderChoice = EncoderKind | 'auto';
export const ENCODER_CHOICES: readonly EncoderChoice[] = ['auto', 'mf', 'ffmpeg', 'webcodecs'];

/**
 * What `auto` picks off Windows, chosen by bench/media.bench.ts: see design/MEDIA.md for the numbers.
 * On Windows `auto` tries Media Foundation first (index.ts).
 */
export const DEFAULT_ENCODER_KIND: EncoderKind = 'ffmpeg';

export interface EncoderOptions {
  kind?: EncoderChoice;
  /** mf: only hardware MFTs, only the software one, or hardware first (default). */
  mfClass?: 'hardware' | 'software' | 'any';
  /** Where `auto` logs what it picked (once per process, again only if the pick changes). */
  log?: Pick<Logger, 'info' | 'warn'>;
  /** webcodecs: allow NVENC/QSV/VAAPI when present. Default false (x264, known latency). */
  preferHardware?: boolean;
  /** ffmpeg: path of the binary (PORTHOLE_FFMPEG still wins). */
  ffmpegPath?: string;
  /**
   * ffmpeg: the encoder, e.g. `libx264` (default), `h264_nvenc`, `h264_qsv`, `h264_amf`, `h264_mf`, or
   * `auto` (the first of those hardware encoders that encodes a trial frame, else libx264).
   */
  ffmpegCodec?: string;
}

/**
 * Why encoding failed: `unavailable` (the encoder cannot start here: no ffmpeg binary, no webcodecs
 * package, an encoder ffmpeg lacks), `failed` (it started and then failed; `cause` or the message
 * says how), `dropped` (this one frame was not encoded), `closed` (used after `close()`).
 */
export type EncoderErrorCode = 'unavailable' | 'failed' | 'dropped' | 'closed';

export class EncoderError extends PortholeError<EncoderErrorCode> {
  override name = 'EncoderError';
}

export function validateConfig(config: EncoderConfig): void {
  const { width, height, fps, bitrate } = config;
  if (
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    width < 16 ||
    height < 16 ||
    width % 2 ||
    height % 2
  ) {
    throw new RangeError(`encoder size ${width}×${height} must be even integers ≥ 16`);
  }
  if (!(fps > 0 && fps <= 240)) throw new RangeError(`encoder fps ${fps} must be in (0, 240]`);
  if (!(bitrate >= 10_000)) throw new RangeError(`encoder bitrate ${bitrate} must be ≥ 10000`);
}
