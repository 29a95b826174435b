/** Encoders for pipeline tests: each records the settings it ran at and the sizes it was fed. */
import type { Encoder, EncoderConfig } from '../../../src/helper/encode/encoder.js';
import type { EncoderFactory } from '../../../src/helper/pipeline/display-pipeline.js';

/**
 * Encoders that record the settings they were started with and changed to, and count frames;
 * `events` keeps the order: `frame`, `bitrate N`, `fps N`.
 */
export function fakeEncoders(): { factory: EncoderFactory; started: FakeEncoder[] } {
  const started: FakeEncoder[] = [];
  const factory: EncoderFactory = (config) => {
    const e = new FakeEncoder(config);
    started.push(e);
    return Promise.resolve(e);
  };
  return { factory, started };
}

export class FakeEncoder implements Encoder {
  readonly kind = 'ffmpeg' as const;
  readonly description = 'fake';
  fps: number;
  bitrate: number;
  frames = 0;
  readonly events: string[] = [];
  /** The size of the last frame it was fed. */
  lastSize: { width: number; height: number } | undefined;
  closed = false;
  constructor(readonly config: EncoderConfig) {
    this.fps = config.fps;
    this.bitrate = config.bitrate;
  }
  encode(frame: { width: number; height: number; timestampUs: number }) {
    this.frames += 1;
    this.events.push('frame');
    this.lastSize = { width: frame.width, height: frame.height };
    return Promise.resolve({
      data: Buffer.from([0, 0, 0, 1, 0x65, 0x88]),
      keyframe: this.frames === 1,
      timestampUs: frame.timestampUs,
      captureTimestampUs: frame.timestampUs,
      width: frame.width,
      height: frame.height,
    });
  }
  requestKeyframe(): void {}
  setBitrate(bps: number): void {
    this.bitrate = bps;
    this.events.push(`bitrate ${bps}`);
  }
  setFps(fps: number): void {
    this.fps = fps;
    this.events.push(`fps ${fps}`);
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
