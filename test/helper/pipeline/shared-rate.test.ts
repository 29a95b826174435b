/**
 * Viewers of one display share one encoder, so no viewer's `rate` may set it for the others, and
 * nothing a viewer asked may outlive it: the encoder runs at the most fps and the least bitrate the
 * live viewers want (`sharedRate`), recomputed as they come and go. The capture loop runs on a fake
 * clock and the encoder is a fake that records its settings, so "runs at 60 fps" is counted exactly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SyntheticCapturer } from '../../../src/helper/capture/synthetic-capturer.js';
import {
  DisplayPipeline,
  defaultBitrate,
  sharedRate,
} from '../../../src/helper/pipeline/display-pipeline.js';
import { MediaHub } from '../../../src/helper/pipeline/media-hub.js';
import { silentLogger } from '../../../src/log/logger.js';
import { FakeClock } from '../../fixtures/fake-clock.js';
import { fakeEncoders } from './fake-encoders.js';

const PROFILE = '42e01f';
const DEFAULTS = { fps: 30, bitrate: defaultBitrate(320, 240, 30) };

function setup() {
  const clock = new FakeClock();
  const encoders = fakeEncoders();
  const hub = new MediaHub(
    new SyntheticCapturer([{ width: 320, height: 240 }]),
    { fps: DEFAULTS.fps, bitrate: 0 },
    silentLogger,
    { timers: clock, createEncoder: encoders.factory },
  );
  /** Frames the (only) encoder made in `ms` of the fake clock. */
  const framesIn = async (ms: number): Promise<number> => {
    const encoder = encoders.started.at(-1);
    const before = encoder?.frames ?? 0;
    await clock.advance(ms);
    return (encoders.started.at(-1)?.frames ?? 0) - before;
  };
  return { clock, encoders, hub, framesIn };
}

describe('sharedRate', () => {
  it('takes the most fps and the least bitrate wanted, counting a viewer that asked nothing as the defaults', () => {
    const defaults = { fps: 30, bitrate: 2_000_000 };
    expect(sharedRate(defaults, [])).toEqual(defaults);
    expect(sharedRate(defaults, [{}])).toEqual(defaults);
    expect(sharedRate(defaults, [{ fps: 10 }, {}])).toEqual({ fps: 30, bitrate: 2_000_000 });
    expect(sharedRate(defaults, [{ fps: 60, bitrate: 5_000_000 }, { fps: 10 }])).toEqual({
      fps: 60,
      bitrate: 2_000_000,
    });
    expect(sharedRate(defaults, [{ fps: 60, bitrate: 5_000_000 }])).toEqual({ fps: 60, bitrate: 5_000_000 });
    expect(sharedRate(defaults, [{ bitrate: 5_000_000, pathBitrate: 700_000 }, {}])).toEqual({
      fps: 30,
      bitrate: 700_000,
    });
  });
});

describe('rate of a display shared by several viewers', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  it('runs at the aggregate of two viewers, recomputes when one leaves, and is back to the defaults after the last', async () => {
    const { hub, encoders, framesIn } = setup();
    closers.push(() => hub.close());
    const a = hub.videoSource(0, PROFILE);
    const b = hub.videoSource(0, PROFILE);
    a.setRate({ fps: 60, bitrate: 500_000 });
    b.setRate({ fps: 15, bitrate: 3_000_000 });
    const pipeline = hub.pipeline(0, PROFILE);
    expect(hub.activePipelines).toBe(1);
    expect(pipeline.currentRate).toEqual({ fps: 60, bitrate: 500_000 });

    await framesIn(100); // the first frame starts the encoder
    expect(encoders.started).toHaveLength(1);
    const encoder = encoders.started[0]!;
    expect({ fps: encoder.fps, bitrate: encoder.bitrate }).toEqual({ fps: 60, bitrate: 500_000 });
    expect(await framesIn(1000)).toBeGreaterThanOrEqual(58); // 60 fps, not the 15 b asked last

    await a.close(); // b alone: its own ask, nothing of a's left
    expect(pipeline.currentRate).toEqual({ fps: 15, bitrate: 3_000_000 });
    expect({ fps: encoder.fps, bitrate: encoder.bitrate }).toEqual({ fps: 15, bitrate: 3_000_000 });
    const alone = await framesIn(1000);
    expect(alone).toBeGreaterThanOrEqual(14);
    expect(alone).toBeLessThanOrEqual(16);

    await b.close(); // nobody watches: the pipeline and its encoder are gone
    expect(hub.activePipelines).toBe(0);
    expect(encoder.closed).toBe(true);
    const c = hub.videoSource(0, PROFILE); // a later viewer who asks nothing gets the defaults
    expect(hub.pipeline(0, PROFILE).currentRate).toEqual(DEFAULTS);
    await framesIn(100);
    expect(encoders.started).toHaveLength(2);
    expect({ fps: encoders.started[1]!.fps, bitrate: encoders.started[1]!.bitrate }).toEqual(DEFAULTS);
    await c.close();
  });

  it('does not let a viewer lower the frame rate another viewer gets, even when it asks last', async () => {
    const { hub, framesIn } = setup();
    closers.push(() => hub.close());
    const a = hub.videoSource(0, PROFILE);
    const b = hub.videoSource(0, PROFILE);
    await framesIn(100);
    b.setRate({ fps: 5 }); // a asked nothing: it keeps the default 30
    expect(hub.pipeline(0, PROFILE).currentRate.fps).toBe(30);
    expect(await framesIn(1000)).toBeGreaterThanOrEqual(29);
    await a.close();
    expect(hub.pipeline(0, PROFILE).currentRate.fps).toBe(5);
    await b.close();
  });

  it("holds the shared bitrate to the slowest viewer's path, and lets go when that viewer leaves", async () => {
    const { hub } = setup();
    closers.push(() => hub.close());
    const a = hub.videoSource(0, PROFILE);
    const b = hub.videoSource(0, PROFILE);
    const pipeline = hub.pipeline(0, PROFILE);
    a.limitBitrate(400_000); // a's congestion controller backed off
    expect(pipeline.currentRate.bitrate).toBe(400_000);
    a.limitBitrate(undefined); // a's path recovered
    expect(pipeline.currentRate.bitrate).toBe(DEFAULTS.bitrate);
    a.limitBitrate(300_000);
    b.setRate({ bitrate: 2_000_000 });
    expect(pipeline.currentRate.bitrate).toBe(300_000);
    await a.close();
    expect(pipeline.currentRate.bitrate).toBe(2_000_000);
    await b.close();
  });

  it('keeps a viewer’s ask when it switches display, and leaves nothing of it on the display it left', async () => {
    const clock = new FakeClock();
    const encoders = fakeEncoders();
    const hub = new MediaHub(
      new SyntheticCapturer([
        { width: 320, height: 240 },
        { width: 320, height: 240 },
      ]),
      { fps: DEFAULTS.fps, bitrate: 0 },
      silentLogger,
      { timers: clock, createEncoder: encoders.factory },
    );
    closers.push(() => hub.close());
    const a = hub.videoSource(0, PROFILE);
    const b = hub.videoSource(0, PROFILE);
    a.setRate({ fps: 60 });
    await a.setDisplay(1);
    expect(hub.pipeline(0, PROFILE).currentRate).toEqual(DEFAULTS);
    expect(hub.pipeline(1, PROFILE).currentRate).toEqual({ ...DEFAULTS, fps: 60 });
    await a.close();
    await b.close();
    expect(hub.activePipelines).toBe(0);
  });

  it('starts the encoder at the rate that holds when it is up, even if viewers came or went meanwhile', async () => {
    const clock = new FakeClock();
    let release: () => void = () => undefined;
    const slow = fakeEncoders();
    const hub = new MediaHub(
      new SyntheticCapturer([{ width: 320, height: 240 }]),
      { fps: DEFAULTS.fps, bitrate: 0 },
      silentLogger,
      {
        timers: clock,
        // An encoder that takes a while to start, as an ffmpeg process does.
        createEncoder: (config, options) =>
          new Promise<void>((resolve) => (release = resolve)).then(() => slow.factory(config, options)),
      },
    );
    closers.push(() => hub.close());
    const a = hub.videoSource(0, PROFILE);
    a.setRate({ fps: 60, bitrate: 400_000 });
    await clock.advance(50); // the first frame asks for the encoder, at 60 fps and 400 kbit/s
    const b = hub.videoSource(0, PROFILE);
    await a.close(); // …and before it is up, the viewer who wanted that leaves
    release();
    await clock.advance(50);
    expect(slow.started).toHaveLength(1);
    expect({ fps: slow.started[0]!.fps, bitrate: slow.started[0]!.bitrate }).toEqual(DEFAULTS);
    await b.close();
  });

  it('gives a pipeline its defaults back when its last subscriber unsubscribes', () => {
    const clock = new FakeClock();
    const pipeline = new DisplayPipeline(
      new SyntheticCapturer([{ width: 320, height: 240 }]),
      0,
      PROFILE,
      { fps: 30, bitrate: 0 },
      silentLogger,
      clock,
      fakeEncoders().factory,
    );
    const a = pipeline.subscribe(() => undefined, { fps: 50, bitrate: 600_000 });
    const b = pipeline.subscribe(() => undefined);
    expect(pipeline.currentRate).toEqual({ fps: 50, bitrate: 600_000 });
    b.setRate({ fps: 20, bitrate: 400_000 });
    expect(pipeline.currentRate).toEqual({ fps: 50, bitrate: 400_000 });
    a.unsubscribe();
    a.unsubscribe(); // twice is harmless
    a.setRate({ fps: 120 }); // and a gone viewer asks nothing any more
    expect(pipeline.currentRate).toEqual({ fps: 20, bitrate: 400_000 });
    b.unsubscribe();
    expect(pipeline.currentRate).toEqual(DEFAULTS);
    return pipeline.close();
  });
});
