/**
 * Lower resolution in the pipeline: a viewer whose path carries too little for a 720p picture gets it
 * halved, at the frame rate the halved picture feeds; more bandwidth brings the full size back, and
 * `--resolution full` never scales. The capture loop runs on a fake clock; the encoder is a fake that
 * records the sizes it is fed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isIdrAccessUnit } from '../../../src/helper/encode/annexb.js';
import type { EncodedAccessUnit } from '../../../src/helper/desktop/video-source.js';
import { silentLogger } from '../../../src/log/logger.js';
import { decodeH264 } from '../encode/decode.js';
import { SyntheticCapturer } from '../../../src/helper/capture/synthetic-capturer.js';
import { DisplayPipeline } from '../../../src/helper/pipeline/display-pipeline.js';
import { MIN_FPS } from '../../../src/helper/pipeline/frame-rate-for-bitrate.js';
import type { ResolutionMode } from '../../../src/helper/pipeline/picture-scale.js';
import { recordingLogger } from '../../service/sessions/recording-logger.js';
import { FakeClock } from '../../fixtures/fake-clock.js';
import { fakeEncoders } from './fake-encoders.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

function setup(resolution?: ResolutionMode) {
  const clock = new FakeClock();
  const encoders = fakeEncoders();
  const log = recordingLogger();
  const pipeline = new DisplayPipeline(
    new SyntheticCapturer([{ width: 1280, height: 720 }]),
    0,
    '42e01f',
    { fps: 30, bitrate: 0, ...(resolution ? { resolution } : {}) },
    log,
    clock,
    encoders.factory,
  );
  closers.push(() => pipeline.close());
  const fed = () => encoders.started.at(-1)?.lastSize;
  return { clock, encoders, pipeline, fed, log };
}

describe('lower resolution on a thin link', () => {
  it('halves a 720p picture when its viewer is held to 300 kb/s and restores it at 600 kb/s', async () => {
    const { clock, pipeline, fed, log } = setup();
    const sub = pipeline.subscribe(() => undefined, { pathBitrate: 300_000 });
    await clock.advance(200);
    expect(fed()).toEqual({ width: 640, height: 360 });
    expect(pipeline.encodedSize).toEqual({ width: 640, height: 360 });
    // 300 kb/s over 640×360 at 0.04 bit a pixel feeds 32 fps: the asked 30, not the floor.
    expect(pipeline.currentRate).toEqual({ fps: 30, bitrate: 300_000 });
    expect(log.entries.some((l) => l.msg === 'picture halved for a thin link')).toBe(true);

    sub.setRate({ pathBitrate: 450_000 }); // between the thresholds: stays halved
    await clock.advance(200);
    expect(fed()).toEqual({ width: 640, height: 360 });

    sub.setRate({ pathBitrate: 600_000 });
    await clock.advance(200);
    expect(fed()).toEqual({ width: 1280, height: 720 });
    // At full size 600 kb/s feeds 16 fps.
    expect(pipeline.currentRate.fps).toBe(16);
    expect(log.entries.some((l) => l.msg === 'picture back to full size')).toBe(true);
    sub.unsubscribe();
  });

  it('keeps the full size with --resolution full, at the frame-rate floor', async () => {
    const { clock, pipeline, fed } = setup('full');
    const sub = pipeline.subscribe(() => undefined, { pathBitrate: 300_000 });
    await clock.advance(200);
    expect(fed()).toEqual({ width: 1280, height: 720 });
    expect(pipeline.currentRate).toEqual({ fps: MIN_FPS, bitrate: 300_000 });
    sub.unsubscribe();
  });

  it('gives the full size back when the thin viewer leaves', async () => {
    const { clock, pipeline, fed } = setup();
    const thin = pipeline.subscribe(() => undefined, { pathBitrate: 300_000 });
    const fast = pipeline.subscribe(() => undefined);
    await clock.advance(200);
    expect(fed()).toEqual({ width: 640, height: 360 });
    thin.unsubscribe();
    await clock.advance(200);
    expect(fed()).toEqual({ width: 1280, height: 720 });
    fast.unsubscribe();
  });

  it('streams the halved picture through the real encoder: it decodes at 640×360', async () => {
    const clock = new FakeClock();
    const pipeline = new DisplayPipeline(
      new SyntheticCapturer([{ width: 1280, height: 720 }]),
      0,
      '42e01f',
      { fps: 30, bitrate: 0 },
      silentLogger,
      clock,
    );
    closers.push(() => pipeline.close());
    const units: EncodedAccessUnit[] = [];
    const sub = pipeline.subscribe((u) => units.push(u), { pathBitrate: 300_000 });
    // The capture loop runs on the fake clock, the encoder (ffmpeg) in real time: up to ~20 s of it
    // on a loaded machine.
    for (let i = 0; i < 1000 && units.length < 8; i++) {
      await clock.advance(34);
      await new Promise((r) => setTimeout(r, 20));
    }
    sub.unsubscribe();
    expect(units.length).toBeGreaterThanOrEqual(8);
    const first = units.findIndex((u) => isIdrAccessUnit(u.data));
    expect(first).toBe(0);
    const stream = Buffer.concat(units.map((u) => u.data));
    // A 1280×720 stream would split into four times as many 640×360 frames as units were sent.
    const frames = await decodeH264(stream, 640, 360);
    expect(frames.length).toBe(units.length);
  }, 30_000);
});
