/**
 * The display pipeline on a real, still X screen: with nothing drawn it encodes nothing, yet a
 * keyframe request (a viewer's PLI) or a new viewer gets a keyframe at once, not at the periodic
 * refresh (STATIC_REFRESH_MS, 2.5 s). The pipeline's own clock is a fake one that the test moves, so
 * "not the refresh" holds by construction however slow the capture and the encoder are; the X
 * server and the encoder run in real time and are waited for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Capturer } from '../../../src/helper/capture/capturer.js';
import { createCapturer } from '../../../src/helper/capture/index.js';
import type { EncodedAccessUnit } from '../../../src/helper/desktop/video-source.js';
import { DisplayPipeline, STATIC_REFRESH_MS } from '../../../src/helper/pipeline/display-pipeline.js';
import { silentLogger } from '../../../src/log/logger.js';
import { FakeClock } from '../../fixtures/fake-clock.js';
import { waitFor } from '../../fixtures/wait-for.js';
import { startXvfb, type XvfbHandle } from '../../fixtures/xvfb.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('display pipeline on a still X screen', () => {
  let xvfb: XvfbHandle;
  let capturer: Capturer;
  let pipeline: DisplayPipeline;
  const clock = new FakeClock();
  beforeAll(async () => {
    xvfb = await startXvfb({ screens: [{ w: 320, h: 240 }] });
    capturer = await createCapturer({ kind: 'x11', display: xvfb.display });
    pipeline = new DisplayPipeline(capturer, 0, '42e01f', { fps: 30, bitrate: 0 }, silentLogger, clock);
  });
  afterAll(async () => {
    await pipeline?.close();
    capturer?.close();
    await xvfb?.stop();
  });

  it('sends one keyframe, then nothing while still, and a keyframe at once when asked', async () => {
    expect(STATIC_REFRESH_MS).toBeGreaterThanOrEqual(2000);
    const a: EncodedAccessUnit[] = [];
    pipeline.subscribe((u) => a.push(u));
    const first = await waitFor(() => a[0], { what: 'the first access unit', timeoutMs: 10_000 });
    expect(first.keyframe).toBe(true);

    // A second on the pipeline's clock, and as long in real time for the loop to look at the screen.
    await clock.advance(1000);
    await sleep(1000);
    expect(a).toHaveLength(1); // nothing drawn, nothing encoded

    pipeline.requestKeyframe();
    const asked = await waitFor(() => a[1], { what: 'the requested keyframe', timeoutMs: 10_000 });
    expect(asked.keyframe).toBe(true);
    // The pipeline's clock still reads 1 s and the refresh is due at 2.5 s: the request did it.
    expect(clock.now()).toBeLessThan(STATIC_REFRESH_MS);

    // A new viewer gets a keyframe soon too. The encoder may put it off for a moment after the last
    // one (the ffmpeg encoder swaps processes at most every 250 ms of real time); the pipeline then
    // asks again 100 ms later on its clock. The next refresh is due at 1 s + 2.5 s: moving the clock
    // by at most 2 s leaves it out. Each step waits up to 500 ms of real time for the capture and the
    // encoder (a loaded machine needs more than one 50 ms look) before moving the clock again.
    const b: EncodedAccessUnit[] = [];
    pipeline.subscribe((u) => b.push(u));
    const hasKey = (): boolean => b.some((u) => u.keyframe);
    for (let step = 0; step < 20 && !hasKey(); step++) {
      await clock.advance(100);
      for (let wait = 0; wait < 10 && !hasKey(); wait++) await sleep(50);
    }
    expect(hasKey()).toBe(true);
    expect(clock.now()).toBeLessThan(1000 + STATIC_REFRESH_MS);
  }, 40_000); // the real-time waits above add up to 31 s at most
});
