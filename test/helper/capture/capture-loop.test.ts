/**
 * The capture loop on a fake clock: every tick, wait and refresh happens at a time the test can state
 * exactly, however loaded the machine is.
 */
import { describe, expect, it } from 'vitest';
import { startCaptureLoop } from '../../../src/helper/capture/capture-loop.js';
import type { CapturedFrame, FrameSource } from '../../../src/helper/capture/capturer.js';
import { SyntheticFrameSource } from '../../../src/helper/capture/synthetic-capturer.js';
import { FakeClock } from '../../fixtures/fake-clock.js';

const display = { index: 0, name: 's', x: 0, y: 0, width: 320, height: 240, primary: true };

/** A synthetic source that notes the (fake) time of each grab. */
function timedSource(
  clock: FakeClock,
  motion: 'full' | 'static',
): { source: FrameSource; grabbedAt: number[] } {
  const inner = new SyntheticFrameSource(display, motion);
  const grabbedAt: number[] = [];
  const source: FrameSource = {
    display,
    grab: () => {
      grabbedAt.push(clock.now());
      return inner.grab();
    },
    close: () => inner.close(),
  };
  return { source, grabbedAt };
}

/** 0, step, 2·step, … up to `end`. */
const every = (step: number, from: number, end: number): number[] =>
  Array.from({ length: Math.floor((end - from) / step) + 1 }, (_, i) => from + i * step);

describe('capture loop', () => {
  // The first tick is a setTimeout(0), which Node (and the fake clock) runs after 1 ms; the schedule
  // itself keeps to the start time, so the ticks after it fall on 10, 20, 30 … ms.
  it('delivers changed frames in order, one per tick', async () => {
    const clock = new FakeClock();
    const seqs: number[] = [];
    const loop = startCaptureLoop(new SyntheticFrameSource(display, 'full'), {
      fps: 100,
      timers: clock,
      onFrame: (f) => void seqs.push(f.sequence),
    });
    await clock.advance(200);
    await loop.stop();
    expect(seqs).toEqual(every(1, 1, 21)); // at 1, 10, 20 … 200 ms
  });

  it('drops unchanged frames but re-delivers one at the refresh interval', async () => {
    const clock = new FakeClock();
    const delivered: { refresh: boolean; at: number }[] = [];
    const loop = startCaptureLoop(new SyntheticFrameSource(display, 'static'), {
      fps: 100,
      refreshIntervalMs: 100,
      timers: clock,
      onFrame: (_f, { refresh }) => void delivered.push({ refresh, at: clock.now() }),
    });
    await clock.advance(350);
    await loop.stop();
    // The first frame is a real change; then the first tick at least 100 ms after the last delivery.
    expect(delivered).toEqual([
      { refresh: false, at: 1 },
      { refresh: true, at: 110 },
      { refresh: true, at: 210 },
      { refresh: true, at: 310 },
    ]);
    expect(loop.stats).toMatchObject({ ticks: 36, delivered: 4, unchanged: 32, busy: 0 });
  });

  it('skips ticks while the consumer is busy instead of queueing frames', async () => {
    const clock = new FakeClock();
    let running = 0;
    let maxRunning = 0;
    const startedAt: number[] = [];
    const loop = startCaptureLoop(new SyntheticFrameSource(display, 'full'), {
      fps: 200,
      timers: clock,
      onFrame: async () => {
        startedAt.push(clock.now());
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await clock.sleep(30);
        running -= 1;
      },
    });
    await clock.advance(200);
    const stopping = loop.stop(); // waits for the frame in flight, taken at 175 ms
    await clock.advance(30);
    await stopping;
    expect(maxRunning).toBe(1);
    // Each 30-ms encode spans six 5-ms ticks, skipped; the next frame is taken at the first tick
    // once the encode is done (the one at 1 ms ends at 31, the one at 35 at 65, just before that tick).
    expect(startedAt).toEqual([1, 35, 65, 95, 125, 155, 185]);
    expect(loop.stats.busy).toBe(loop.stats.ticks - startedAt.length);
  });

  it('delivers a still frame at the next tick when asked', async () => {
    const clock = new FakeClock();
    const got: { refresh: boolean; at: number }[] = [];
    const loop = startCaptureLoop(new SyntheticFrameSource(display, 'static'), {
      fps: 50,
      refreshIntervalMs: 0,
      timers: clock,
      onFrame: (_f, { refresh }) => void got.push({ refresh, at: clock.now() }),
    });
    await clock.advance(105);
    expect(got).toEqual([{ refresh: false, at: 1 }]);
    loop.requestFrame();
    await clock.advance(150);
    await loop.stop();
    expect(got).toEqual([
      { refresh: false, at: 1 },
      { refresh: true, at: 120 },
    ]);
  });

  it('ticks at the idle rate once the screen has been still for a while', async () => {
    const clock = new FakeClock();
    const { source, grabbedAt } = timedSource(clock, 'static');
    const loop = startCaptureLoop(source, {
      fps: 100,
      idleFps: 10,
      idleAfterMs: 50,
      refreshIntervalMs: 0,
      timers: clock,
      onFrame: () => undefined,
    });
    await clock.advance(500);
    await loop.stop();
    // Full rate until the last change (at 1 ms) is 50 ms old, then every 100 ms; 100 fps would be 51.
    expect(grabbedAt).toEqual([1, ...every(10, 10, 60), ...every(100, 160, 460)]);
  });

  describe('woken by the source', () => {
    /** A still source whose `draw()` marks a change and wakes a pending `waitForChange`. */
    class WakingSource implements FrameSource {
      readonly display = display;
      private dirty = true;
      private sequence = 0;
      private wake: (() => void) | undefined;
      readonly grabbedAt: number[] = [];
      waits = 0;
      private readonly data = new Uint8Array(display.width * display.height * 4);
      constructor(private readonly clock: FakeClock) {}
      get grabs(): number {
        return this.grabbedAt.length;
      }
      draw(): void {
        this.dirty = true;
        this.wake?.();
      }
      grab(): CapturedFrame {
        this.grabbedAt.push(this.clock.now());
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
          const t = this.clock.setTimeout(resolve, timeoutMs);
          this.wake = () => {
            this.clock.clearTimeout(t);
            this.wake = undefined;
            resolve();
          };
        });
      }
      close(): void {}
    }

    it('does not poll a still screen: it grabs once, then once per second-long wait', async () => {
      const clock = new FakeClock();
      const source = new WakingSource(clock);
      const loop = startCaptureLoop(source, {
        fps: 100,
        refreshIntervalMs: 0,
        timers: clock,
        onFrame: () => undefined,
      });
      await clock.advance(999);
      // A ticked loop at 100 fps would have grabbed 100 times.
      expect(source.grabbedAt).toEqual([0]);
      expect(source.waits).toBe(1);
      await clock.advance(1);
      expect(source.grabbedAt).toEqual([0, 1000]);
      expect(source.waits).toBe(2);
      await loop.stop();
      expect(loop.stats.delivered).toBe(1);
    });

    it('grabs a drawing the moment the source reports it, not at the end of its wait', async () => {
      const clock = new FakeClock();
      const source = new WakingSource(clock);
      const at: number[] = [];
      const loop = startCaptureLoop(source, {
        fps: 100,
        refreshIntervalMs: 0,
        timers: clock,
        onFrame: () => void at.push(clock.now()),
      });
      await clock.advance(100);
      source.draw();
      await clock.advance(300);
      await loop.stop();
      // The loop's own wait lasts until 1000 ms: only the wake explains a grab at 100 ms.
      expect(at).toEqual([0, 100]);
    });

    it('never grabs while the consumer holds the previous frame, nor faster than the frame rate', async () => {
      const clock = new FakeClock();
      const source = new WakingSource(clock);
      let running = 0;
      let maxRunning = 0;
      const loop = startCaptureLoop(source, {
        fps: 20,
        refreshIntervalMs: 0,
        timers: clock,
        onFrame: async () => {
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          await clock.sleep(10);
          running -= 1;
        },
      });
      let drawing = true;
      const draw = (): void => {
        if (!drawing) return;
        source.draw();
        clock.setTimeout(draw, 2);
      };
      draw();
      await clock.advance(500);
      drawing = false;
      const stopping = loop.stop(); // waits for the frame in flight, taken at 500 ms
      await clock.advance(10);
      await stopping;
      expect(maxRunning).toBe(1);
      // A burst of two (the budget holds two frames), then one frame per 50 ms: 12, where drawing
      // every 2 ms would be 250.
      const at = source.grabbedAt;
      expect(at.slice(0, 2)).toEqual([0, 10]);
      expect(at.slice(2)).toEqual(every(50, 50, 500).map((t) => expect.closeTo(t, 6)));
      expect(loop.stats.delivered).toBe(12);
    });

    it('re-delivers a still frame at the refresh interval', async () => {
      const clock = new FakeClock();
      const source = new WakingSource(clock);
      const got: { refresh: boolean; at: number }[] = [];
      const loop = startCaptureLoop(source, {
        fps: 100,
        refreshIntervalMs: 100,
        timers: clock,
        onFrame: (_f, { refresh }) => void got.push({ refresh, at: clock.now() }),
      });
      await clock.advance(350);
      await loop.stop();
      expect(got).toEqual([
        { refresh: false, at: 0 },
        { refresh: true, at: 100 },
        { refresh: true, at: 200 },
        { refresh: true, at: 300 },
      ]);
    });

    it('delivers the still picture at once when asked, without waiting for a change', async () => {
      const clock = new FakeClock();
      const source = new WakingSource(clock);
      const got: { refresh: boolean; at: number }[] = [];
      const loop = startCaptureLoop(source, {
        fps: 100,
        refreshIntervalMs: 0,
        timers: clock,
        onFrame: (_f, { refresh }) => void got.push({ refresh, at: clock.now() }),
      });
      await clock.advance(100);
      loop.requestFrame();
      await clock.advance(200);
      await loop.stop();
      // The source's own wait lasts until 1000 ms.
      expect(got).toEqual([
        { refresh: false, at: 0 },
        { refresh: true, at: 100 },
      ]);
    });

    it('stops while waiting for a change, and grabs nothing after', async () => {
      const clock = new FakeClock();
      const source = new WakingSource(clock);
      const loop = startCaptureLoop(source, {
        fps: 100,
        refreshIntervalMs: 0,
        timers: clock,
        onFrame: () => undefined,
      });
      await clock.advance(100);
      await loop.stop();
      const grabs = source.grabs;
      const waits = source.waits;
      source.draw();
      await clock.advance(2000);
      expect(source.grabs).toBe(grabs);
      expect(source.waits).toBe(waits);
    });

    it('can be forced onto the ticked loop', async () => {
      const clock = new FakeClock();
      const source = new WakingSource(clock);
      const loop = startCaptureLoop(source, {
        fps: 100,
        refreshIntervalMs: 0,
        wakeOnChange: false,
        timers: clock,
        onFrame: () => undefined,
      });
      await clock.advance(200);
      await loop.stop();
      expect(source.waits).toBe(0);
      expect(source.grabbedAt).toEqual([1, ...every(10, 10, 200)]);
    });
  });
});
