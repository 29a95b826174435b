/**
 * One ffmpeg child that encodes raw frames from stdin to H.264 in FLV on stdout, for one fixed
 * configuration. Its first frame is always an IDR; it never makes another unless x264's long GOP
 * runs out. The encoder swaps processes to get a keyframe or a new setting (see ffmpeg-encoder.ts).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { monotonicUs } from '../capture/clock.js';
import type { PixelFormat } from '../capture/capturer.js';
import { EncoderError, type EncodedFrame, type EncoderConfig, type RawFrame } from './encoder.js';
import { FlvReader } from './flv-reader.js';
import {
  DEFAULT_PROFILE_LEVEL_ID,
  levelFor,
  levelName,
  parseProfileLevelId,
  profileName,
} from './h264-profile.js';
import { errorMessage } from '../../errors/error-text.js';

interface Pending {
  captureTimestampUs: number;
  resolve(frame: EncodedFrame): void;
  reject(err: Error): void;
}

const PIX_FMT: Record<PixelFormat, string> = { BGRA: 'bgra', BGRX: 'bgr0' };

/**
 * The rate control's buffer (VBV) in seconds of the bitrate: the most one frame — a keyframe — can
 * take. The frame leaves at once and drains through the path's bottleneck queue at the link rate, so
 * it must fit that queue: a home router's is ~250 ms of its link, and at `bitrate / 2` a keyframe
 * sent at the link rate overflowed it (a loss burst exactly when the viewer needs the picture).
 * 0.2 s keeps it inside with room for the frames that follow; low-latency game streamers likewise
 * size the VBV from bitrate / fps, a frame or a few. The price: a keyframe at 1 Mb/s is at most
 * ~25 kB, so it comes out softer and the next frames sharpen it.
 */
export const VBV_SECONDS = 0.2;

export function vbvBufferBits(bitrate: number): number {
  return Math.round(bitrate * VBV_SECONDS);
}

export function ffmpegArgs(config: EncoderConfig, codec: string, format: PixelFormat): string[] {
  const { width, height, fps, bitrate } = config;
  const profile = parseProfileLevelId(config.profileLevelId ?? DEFAULT_PROFILE_LEVEL_ID);
  const level = levelName(levelFor(width, height, fps, profile.levelIdc));
  const x264 =
    codec === 'libx264'
      ? // zerolatency: no lookahead, no B-frames, sliced threads: one frame in, one frame out.
        ['-preset', 'ultrafast', '-tune', 'zerolatency', '-x264-params', 'scenecut=0']
      : [];
  return [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
    // Without these, ffmpeg reads several frames to "probe" a raw input it is told everything about,
    // and the first frames come out ~4 frames late.
    ...['-probesize', '32', '-analyzeduration', '0', '-fpsprobesize', '0'],
    // The BGRA → YUV 4:2:0 conversion runs in slices on this many threads: ~1–2 ms less per 1080p
    // frame on two cores (it is a third of x264 ultrafast's time when done on one).
    ...['-filter_threads', String(Math.min(4, availableParallelism()))],
    ...['-f', 'rawvideo', '-pix_fmt', PIX_FMT[format], '-video_size', `${width}x${height}`],
    ...['-framerate', String(fps), '-i', 'pipe:0'],
    ...['-an', '-c:v', codec, ...x264, '-profile:v', profileName(profile.profileIdc), '-level', level],
    ...['-pix_fmt', 'yuv420p', '-bf', '0', '-g', String(Math.round(fps * 3600))],
    ...['-b:v', String(bitrate), '-maxrate', String(bitrate), '-bufsize', String(vbvBufferBits(bitrate))],
    ...['-fps_mode', 'passthrough', '-muxdelay', '0', '-muxpreload', '0'],
    ...['-flush_packets', '1', '-f', 'flv', 'pipe:1'],
  ];
}

export class FfmpegProcess {
  readonly config: EncoderConfig;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly reader = new FlvReader();
  private readonly pending: Pending[] = [];
  private stderr = '';
  private failure: Error | undefined;
  private readonly exited: Promise<void>;
  framesIn = 0;

  constructor(
    binary: string,
    config: EncoderConfig,
    readonly codec: string,
    readonly format: PixelFormat,
  ) {
    this.config = { ...config };
    this.child = spawn(binary, ffmpegArgs(config, codec, format), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('close', () => resolve()));
    this.child.once('error', (err) =>
      this.fail(new EncoderError('unavailable', `cannot run ${binary}: ${err.message}`, { cause: err })),
    );
    this.child.once('exit', (code, signal) => {
      if (this.pending.length > 0 || (code !== 0 && signal === null)) {
        this.fail(
          new EncoderError(
            'failed',
            `ffmpeg exited (${signal ?? `code ${code}`}): ${this.stderr.trim().slice(-500)}`,
          ),
        );
      }
    });
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    // A frame written after ffmpeg died raises EPIPE here; the exit handler reports it.
    this.child.stdin.on('error', () => undefined);
    this.child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  encode(frame: RawFrame): Promise<EncodedFrame> {
    if (this.failure) return Promise.reject(this.failure);
    const rowBytes = frame.width * 4;
    const data =
      frame.stride === rowBytes
        ? frame.data.subarray(0, rowBytes * frame.height)
        : packRows(frame.data, frame.stride, rowBytes, frame.height);
    this.framesIn += 1;
    return new Promise((resolve, reject) => {
      this.pending.push({ captureTimestampUs: frame.timestampUs, resolve, reject });
      this.child.stdin.write(data);
    });
  }

  private onData(chunk: Buffer): void {
    let frames;
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      this.fail(new EncoderError('failed', `ffmpeg output: ${errorMessage(err)}`, { cause: err }));
      this.child.kill('SIGKILL');
      return;
    }
    for (const f of frames) {
      const p = this.pending.shift();
      p?.resolve({
        data: f.data,
        keyframe: f.keyframe,
        timestampUs: monotonicUs(),
        captureTimestampUs: p.captureTimestampUs,
        width: this.config.width,
        height: this.config.height,
      });
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.splice(0)) p.reject(this.failure);
  }

  /** Lets ffmpeg finish the frames it has, then waits for it to exit (killing it after `graceMs`). */
  async close(graceMs = 2000): Promise<void> {
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    this.fail(new EncoderError('closed', 'ffmpeg encoder closed'));
  }
}

function packRows(src: Uint8Array, stride: number, rowBytes: number, height: number): Buffer {
  const out = Buffer.allocUnsafe(rowBytes * height);
  for (let y = 0; y < height; y++) out.set(src.subarray(y * stride, y * stride + rowBytes), y * rowBytes);
  return out;
}
