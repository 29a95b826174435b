/**
 * The encoder's frame rate follows the bitrate down (fewer, sharper frames), and the pipeline sets
 * both together so the encoder restarts once for the pair.
 */
import { describe, expect, it } from 'vitest';
import { SyntheticCapturer } from '../../../src/helper/capture/synthetic-capturer.js';
import { DisplayPipeline } from '../../../src/helper/pipeline/display-pipeline.js';
import {
  BITS_PER_PIXEL_FRAME,
  MIN_FPS,
  frameRateForBitrate,
} from '../../../src/helper/pipeline/frame-rate-for-bitrate.js';
import { silentLogger } from '../../../src/log/logger.js';
import { FakeClock } from '../../fixtures/fake-clock.js';
import { fakeEncoders } from './fake-encoders.js';

describe('frameRateForBitrate', () => {
  it('gives 720p the asked 60 fps at 3.87 Mb/s, 27 at 1 Mb/s, 13 at 500 kb/s', () => {
    expect(frameRateForBitrate(60, 3_870_000, 1280, 720)).toBe(60);
    expect(frameRateForBitrate(60, 1_500_000, 1280, 720)).toBe(40);
    expect(frameRateForBitrate(60, 1_000_000, 1280, 720)).toBe(27);
    expect(frameRateForBitrate(60, 500_000, 1280, 720)).toBe(13);
  });

  it('keeps at least MIN_FPS, and never more than asked', () => {
    expect(frameRateForBitrate(60, 300_000, 1280, 720)).toBe(MIN_FPS);
    expect(frameRateForBitrate(60, 1, 3840, 2160)).toBe(MIN_FPS);
    expect(frameRateForBitrate(5, 300_000, 1280, 720)).toBe(5);
    expect(frameRateForBitrate(30, 8_000_000, 1280, 720)).toBe(30);
  });

  it('is the floor of bitrate / (pixels x bits per pixel per frame) in between', () => {
    for (const bps of [400_000, 777_777, 1_234_567, 2_000_000]) {
      const fps = frameRateForBitrate(60, bps, 1280, 720);
      expect(fps * 1280 * 720 * BITS_PER_PIXEL_FRAME).toBeLessThanOrEqual(bps);
      expect((fps + 1) * 1280 * 720 * BITS_PER_PIXEL_FRAME).toBeGreaterThan(bps);
    }
  });

  it('leaves the frame rate alone for a size or bitrate it cannot use', () => {
    expect(frameRateForBitrate(30, Number.NaN, 1280, 720)).toBe(30);
    expect(frameRateForBitrate(30, 1_000_000, 0, 720)).toBe(30);
  });
});

describe('DisplayPipeline frame rate', () => {
  it('lowers the fps with a viewer path limit, bitrate and fps set between the same two frames', async () => {
    const clock = new FakeClock();
    const { factory, started: encoders } = fakeEncoders();
    const pipeline = new DisplayPipeline(
      new SyntheticCapturer([{ width: 1280, height: 720 }]),
      0,
      '42e01f',
      { fps: 60, bitrate: 3_870_000 },
      silentLogger,
      clock,
      factory,
    );
    try {
      const sub = pipeline.subscribe(() => undefined);
      await clock.advance(100);
      expect(encoders[0]!.config).toMatchObject({ fps: 60, bitrate: 3_870_000 });
      sub.setRate({ pathBitrate: 1_000_000 });
      expect(pipeline.currentRate).toEqual({ fps: 27, bitrate: 1_000_000 });
      await clock.advance(200);
      const ev = encoders[0]!.events;
      const at = ev.indexOf('bitrate 1000000');
      expect(ev.slice(at, at + 3)).toEqual(['bitrate 1000000', 'fps 27', 'frame']);
      // The capture loop follows: 27 frames a second now, not 60.
      const before = ev.filter((e) => e === 'frame').length;
      await clock.advance(1000);
      const frames = ev.filter((e) => e === 'frame').length - before;
      expect(frames).toBeGreaterThanOrEqual(26);
      expect(frames).toBeLessThanOrEqual(28);
      sub.setRate({});
      expect(pipeline.currentRate).toEqual({ fps: 60, bitrate: 3_870_000 });
    } finally {
      await pipeline.close();
    }
  });
});
