import { describe, expect, it } from 'vitest';
import { startCaptureLoop } from '../../../src/helper/capture/capture-loop.js';
import type { CapturedFrame, FrameSource } from '../../../src/helper/capture/capturer.js';
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

  it('delivers a still frame at the next tick when asked', async () => {
    const refreshes: boolean[] = [];
    const loop = startCaptureLoop(new SyntheticFrameSource(display, 'static'), {
      fps: 50,
      refreshIntervalMs: 0,
      onFrame: (_f, { refresh }) => void refreshes.push(refresh),
    });
    await sleep(100);
    expect(refreshes).toEqual([false]);
    loop.requestFrame();
    await sleep(150);
    await loop.stop();
    expect(refreshes).toEqual([false, true]);
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

  describe('woken by the source', () => {
    /** A still source whose `draw()` marks a change and wakes a pending `waitForChange`. */
    class WakingSource implements FrameSource {
      readonly display = display;
      private dirty = true;
      private sequence = 0;
      private wake: (() => void) | undefined;
      grabs = 0;
      waits = 0;
      private readonly data = new Uint8Array(display.width * display.height * 4);
      draw(): void {
        this.dirty = true;
        this.wake?.();
      }
      grab(): CapturedFrame {
        this.grabs += 1;
        const changed = this.dirty;
        this.dirty = false;
        return {
          data: this.data,
          width: display.width,
          height: display.height,
          stride: display.width * 4,
          format: 'BGRA',
          timestampUs: 0,
          changed,
          sequence: ++this.sequence,
        };
      }
      waitForChange(timeoutMs: number): Promise<void> {
        this.waits += 1;
        return new Promise((resolve) => {
          const t = setTimeout(resolve, timeoutMs);
          this.wake = () => {
            clearTimeout(t);
            this.wake = undefined;
            resolve();
          };
        });
      }
      close(): void {}
    }

    it('does not poll a still screen: it grabs once and then waits', async () => {
      const source = new WakingSource();
      const loop = startCaptureLoop(source, { fps: 100, refreshIntervalMs: 0, onFrame: () => undefined });
      await sleep(400);
      await loop.stop();
      // A ticked loop at 100 fps would have grabbed ~40 times.
      expect(source.grabs).toBeLessThanOrEqual(2);
      expect(loop.stats.delivered).toBe(1);
    });

    it('grabs a drawing when the source reports it, not on the next timeout', async () => {
      const source = new WakingSource();
      const at: number[] = [];
      const loop = startCaptureLoop(source, {
        fps: 100,
        refreshIntervalMs: 0,
        onFrame: () => void at.push(performance.now()),
      });
      await sleep(100);
      const drawnAt = performance.now();
      source.draw();
      await sleep(300);
      await loop.stop();
      expect(at).toHaveLength(2);
      // The loop's own wait is up to a second long: only the wake explains a grab this soon.
      expect(at[1]! - drawnAt).toBeLessThan(250);
    });

    it('never grabs while the consumer holds the previous frame, nor faster than the frame rate', async () => {
      const source = new WakingSource();
      let running = 0;
      let maxRunning = 0;
      const loop = startCaptureLoop(source, {
        fps: 20,
        refreshIntervalMs: 0,
        onFrame: async () => {
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          await sleep(10);
          running -= 1;
        },
      });
      const drawer = setInterval(() => source.draw(), 2);
      await sleep(500);
      clearInterval(drawer);
      await loop.stop();
      expect(maxRunning).toBe(1);
      // 20 fps over 0.5 s is 10 frames (one interval may come 10 % early); drawing every 2 ms would be 250.
      expect(loop.stats.delivered).toBeGreaterThanOrEqual(5);
      expect(loop.stats.delivered).toBeLessThanOrEqual(13);
    });

    it('re-delivers a still frame at the refresh interval', async () => {
      const source = new WakingSource();
      const refreshes: boolean[] = [];
      const loop = startCaptureLoop(source, {
        fps: 100,
        refreshIntervalMs: 100,
        onFrame: (_f, { refresh }) => void refreshes.push(refresh),
      });
      await sleep(350);
      await loop.stop();
      expect(refreshes[0]).toBe(false);
      expect(refreshes.slice(1).every((r) => r)).toBe(true);
      expect(refreshes.length).toBeGreaterThanOrEqual(3);
      expect(refreshes.length).toBeLessThanOrEqual(5);
    });

    it('delivers the still picture at once when asked, without waiting for a change', async () => {
      const source = new WakingSource();
      const got: { refresh: boolean; at: number }[] = [];
      const loop = startCaptureLoop(source, {
        fps: 100,
        refreshIntervalMs: 0,
        onFrame: (_f, { refresh }) => void got.push({ refresh, at: performance.now() }),
      });
      await sleep(100);
      const askedAt = performance.now();
      loop.requestFrame();
      await sleep(200);
      await loop.stop();
      expect(got.map((g) => g.refresh)).toEqual([false, true]);
      expect(got[1]!.at - askedAt).toBeLessThan(150); // the source's own wait lasts up to a second
    });

    it('stops while waiting for a change, and grabs nothing after', async () => {
      const source = new WakingSource();
      const loop = startCaptureLoop(source, { fps: 100, refreshIntervalMs: 0, onFrame: () => undefined });
      await sleep(100);
      await loop.stop();
      const grabs = source.grabs;
      const waits = source.waits;
      source.draw();
      await sleep(200);
      expect(source.grabs).toBe(grabs);
      expect(source.waits).toBe(waits);
    });

    it('can be forced onto the ticked loop', async () => {
      const source = new WakingSource();
      const loop = startCaptureLoop(source, {
        fps: 100,
        refreshIntervalMs: 0,
        wakeOnChange: false,
        onFrame: () => undefined,
      });
      await sleep(200);
      await loop.stop();
      expect(source.waits).toBe(0);
      expect(source.grabs).toBeGreaterThan(5);
    });
  });
});
