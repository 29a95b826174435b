import { describe, expect, it } from 'vitest';
import { startCaptureLoop } from '../../../src/helper/capture/capture-loop.js';
import { SyntheticFrameSource } from '../../../src/helper/capture/synthetic-capturer.js';

const display = { index: 0, name: 's', x: 0, y: 0, width: 320, height: 240, primary: true };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('capture loop', () => {
  it('delivers changed frames in order', async () => {
    const seqs: number[] = [];
    const loop = startCaptureLoop(new SyntheticFrameSource(display, 'full'), {
      fps: 100,
      onFrame: (f) => void seqs.push(f.sequence),
    });
    await sleep(200);
    await loop.stop();
    expect(seqs.length).toBeGreaterThan(3);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('drops unchanged frames but re-delivers one at the refresh interval', async () => {
    const delivered: boolean[] = [];
    const loop = startCaptureLoop(new SyntheticFrameSource(display, 'static'), {
      fps: 100,
      refreshIntervalMs: 100,
      onFrame: (_f, { refresh }) => void delivered.push(refresh),
    });
    await sleep(350);
    await loop.stop();
    expect(delivered[0]).toBe(false); // the first frame is a real change
    expect(delivered.slice(1).every((r) => r)).toBe(true);
    expect(delivered.length).toBeGreaterThanOrEqual(2);
    expect(delivered.length).toBeLessThanOrEqual(5);
    expect(loop.stats.unchanged).toBeGreaterThan(delivered.length);
  });

  it('skips ticks while the consumer is busy instead of queueing frames', async () => {
    let running = 0;
    let maxRunning = 0;
    const loop = startCaptureLoop(new SyntheticFrameSource(display, 'full'), {
      fps: 200,
      onFrame: async () => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await sleep(30);
        running -= 1;
      },
    });
    await sleep(200);
    await loop.stop();
    expect(maxRunning).toBe(1);
    expect(loop.stats.busy).toBeGreaterThan(0);
  });

  it('ticks at the idle rate once the screen has been still for a while', async () => {
    const loop = startCaptureLoop(new SyntheticFrameSource(display, 'static'), {
      fps: 100,
      idleFps: 10,
      idleAfterMs: 50,
      refreshIntervalMs: 0,
      onFrame: () => undefined,
    });
    await sleep(500);
    await loop.stop();
    // 100 fps would be ~50 ticks; ~5 at full rate, then ~5 at the idle rate.
    expect(loop.stats.ticks).toBeLessThan(20);
  });
});
