/**
 * The hub's bookkeeping of pipelines as viewers come, go and fail: a pipeline lives exactly as long
 * as someone watches it, whatever order viewers close in and however often.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CaptureError, type Capturer } from '../../../src/helper/capture/capturer.js';
import { SyntheticCapturer } from '../../../src/helper/capture/synthetic-capturer.js';
import type { Encoder, EncoderConfig } from '../../../src/helper/encode/encoder.js';
import type { EncoderFactory } from '../../../src/helper/pipeline/display-pipeline.js';
import { MediaHub } from '../../../src/helper/pipeline/media-hub.js';
import { silentLogger } from '../../../src/log/logger.js';
import { FakeClock } from '../../fixtures/fake-clock.js';

const PROFILE = '42e01f';

/** Encoders that do nothing but count how many are open. */
function countingEncoders(): { factory: EncoderFactory; open(): number } {
  let open = 0;
  const factory: EncoderFactory = (config: EncoderConfig) => {
    open += 1;
    let closed = false;
    const encoder: Encoder = {
      kind: 'ffmpeg',
      description: 'fake',
      encode: (frame) =>
        Promise.resolve({
          data: Buffer.from([0, 0, 0, 1, 0x65]),
          keyframe: true,
          timestampUs: frame.timestampUs,
          captureTimestampUs: frame.timestampUs,
          width: config.width,
          height: config.height,
        }),
      requestKeyframe: () => undefined,
      setBitrate: () => undefined,
      setFps: () => undefined,
      close: () => {
        if (!closed) open -= 1;
        closed = true;
        return Promise.resolve();
      },
    };
    return Promise.resolve(encoder);
  };
  return { factory, open: () => open };
}

describe('media hub', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  it("does not close another viewer's pipeline when a viewer is closed twice", async () => {
    const clock = new FakeClock();
    const encoders = countingEncoders();
    const hub = new MediaHub(
      new SyntheticCapturer([{ width: 320, height: 240 }]),
      { fps: 30, bitrate: 0 },
      silentLogger,
      {
        timers: clock,
        createEncoder: encoders.factory,
      },
    );
    closers.push(() => hub.close());
    const a = hub.videoSource(0, PROFILE);
    await clock.advance(100);
    await a.close(); // the pipeline goes with its only viewer
    expect(hub.activePipelines).toBe(0);
    const b = hub.videoSource(0, PROFILE); // a new pipeline for the same display and profile
    let frames = 0;
    b.onAccessUnit(() => (frames += 1));
    await a.close(); // a's owner closes it again (teardown paths overlap)
    expect(hub.activePipelines).toBe(1);
    await clock.advance(200);
    expect(frames).toBeGreaterThan(0);
    await hub.close(); // and the hub still knows b's pipeline, so closing it closes the encoder
    expect(encoders.open()).toBe(0);
  });

  it('keeps no pipeline for a viewer whose display could not be opened', () => {
    const synthetic = new SyntheticCapturer([{ width: 320, height: 240 }]);
    let opens = 0;
    const capturer: Capturer = {
      kind: 'synthetic',
      displays: () => synthetic.displays(),
      openFrameSource: () => {
        opens += 1;
        if (opens === 1) throw new CaptureError('failed', 'XShmAttach failed');
        return synthetic.openFrameSource(0);
      },
      openCursorSource: () => synthetic.openCursorSource(),
      close: () => undefined,
    };
    const clock = new FakeClock();
    const hub = new MediaHub(capturer, { fps: 30, bitrate: 0 }, silentLogger, {
      timers: clock,
      createEncoder: countingEncoders().factory,
    });
    closers.push(() => hub.close());
    expect(() => hub.videoSource(0, PROFILE)).toThrow(CaptureError);
    expect(hub.activePipelines).toBe(0);
    // The next viewer starts from scratch: the failed one is not counted as watching.
    const b = hub.videoSource(0, PROFILE);
    expect(hub.pipeline(0, PROFILE).subscriberCount).toBe(1);
    return b.close();
  });

  it('keeps a viewer on its display, and nothing open for the other, when switching to it fails', async () => {
    const synthetic = new SyntheticCapturer([
      { width: 320, height: 240 },
      { width: 320, height: 240 },
    ]);
    const capturer: Capturer = {
      kind: 'synthetic',
      displays: () => synthetic.displays(),
      openFrameSource: (i) => {
        if (i === 1) throw new CaptureError('failed', 'XShmGetImage of display 1 failed');
        return synthetic.openFrameSource(i);
      },
      openCursorSource: () => synthetic.openCursorSource(),
      close: () => undefined,
    };
    const clock = new FakeClock();
    const encoders = countingEncoders();
    const hub = new MediaHub(capturer, { fps: 30, bitrate: 0 }, silentLogger, {
      timers: clock,
      createEncoder: encoders.factory,
    });
    closers.push(() => hub.close());
    const a = hub.videoSource(0, PROFILE);
    await clock.advance(100);
    await expect(a.setDisplay(1)).rejects.toThrow(CaptureError);
    expect(a.currentDisplay).toBe(0);
    expect(hub.activePipelines).toBe(1);
    let frames = 0;
    a.onAccessUnit(() => (frames += 1));
    await clock.advance(200);
    expect(frames).toBeGreaterThan(0);
    await a.close();
    expect(hub.activePipelines).toBe(0);
    expect(encoders.open()).toBe(0);
  });
});
