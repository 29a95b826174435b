/**
 * The display pipeline on a real, still X screen: with nothing drawn it encodes nothing, yet a
 * keyframe request (a viewer's PLI) or a new viewer gets a keyframe at once, not at the periodic
 * refresh (STATIC_REFRESH_MS, 2.5 s).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Capturer } from '../../../src/helper/capture/capturer.js';
import { createCapturer } from '../../../src/helper/capture/index.js';
import type { EncodedAccessUnit } from '../../../src/helper/desktop/video-source.js';
import { DisplayPipeline, STATIC_REFRESH_MS } from '../../../src/helper/pipeline/display-pipeline.js';
import { silentLogger } from '../../../src/log/logger.js';
import { startXvfb, type XvfbHandle } from '../../fixtures/xvfb.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function nextUnit(
  units: EncodedAccessUnit[],
  from: number,
  timeoutMs: number,
): Promise<EncodedAccessUnit> {
  const end = Date.now() + timeoutMs;
  while (units.length <= from) {
    if (Date.now() > end) throw new Error(`no access unit within ${timeoutMs} ms`);
    await sleep(10);
  }
  return units[from]!;
}

describe('display pipeline on a still X screen', () => {
  let xvfb: XvfbHandle;
  let capturer: Capturer;
  let pipeline: DisplayPipeline;
  beforeAll(async () => {
    xvfb = await startXvfb({ screens: [{ w: 320, h: 240 }] });
    capturer = await createCapturer({ kind: 'x11', display: xvfb.display });
    pipeline = new DisplayPipeline(capturer, 0, '42e01f', { fps: 30, bitrate: 0 }, silentLogger);
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
    expect((await nextUnit(a, 0, 10_000)).keyframe).toBe(true);
    await sleep(1000);
    const still = a.length;
    expect(still).toBe(1); // nothing drawn, nothing encoded
    const askedAt = Date.now();
    pipeline.requestKeyframe();
    const asked = await nextUnit(a, still, 2000);
    expect(asked.keyframe).toBe(true);
    expect(Date.now() - askedAt).toBeLessThan(900); // the refresh was 1.5 s away: the request did it

    // A new viewer gets a keyframe soon too (the encoder may put it off for a moment after the last one).
    const b: EncodedAccessUnit[] = [];
    pipeline.subscribe((u) => b.push(u));
    const end = Date.now() + 2000;
    while (!b.some((u) => u.keyframe) && Date.now() < end) await sleep(10);
    expect(b.some((u) => u.keyframe)).toBe(true);
  }, 20_000);
});
