/**
 * Drives a frame source at up to a target rate and hands changed frames to a consumer (the encoder).
 *
 * Two ways, depending on the source:
 * - **woken by changes** (sources with `waitForChange`, X11): the loop sleeps until the display server
 *   reports a drawing, then grabs at once, as long as the frame budget allows (`fps` on average, short
 *   bursts of two) and the consumer is done with the previous frame. A change is picked up within a
 *   fraction of a millisecond instead of up to a whole tick later, and a still screen costs one
 *   wake-up a second (MAX_WAIT_MS) and the periodic refresh.
 * - **ticked** (everything else), as described below.
 *
 * Both:
 * - Unchanged grabs are dropped, except one every `refreshIntervalMs`, which keeps a decoder that joined
 *   late (or lost a packet) fed while the screen is static.
 * - While the consumer is still busy with the previous frame (its promise has not settled), nothing is
 *   grabbed (the ticked loop skips those ticks rather than queueing them): latency stays one frame
 *   deep and the next grab reads the newest pixels.
 *
 * Ticked only:
 * - A static screen costs one damage check per tick and almost no CPU.
 * - Ticks are scheduled against absolute deadlines, so timer jitter does not lower the frame rate.
 * - After `idleAfterMs` without a change the loop ticks at `idleFps` only: a 60 Hz poll of an idle
 *   screen alone costs ~2 % of a core here (timer wake-ups), 20 Hz about a third of that. The price is
 *   up to 1/idleFps s more latency for the first change after a pause; the full rate resumes at once.
 */
import type { CapturedFrame, FrameSource } from './capturer.js';
import { FrameBudget } from './frame-budget.js';
import { realTimers, type TimerHandle, type Timers } from '../../time/timers.js';

export interface CaptureLoopOptions {
  fps: number;
  /** Re-deliver an unchanged frame this often (ms); 0 turns it off. Default 1000. */
  refreshIntervalMs?: number;
  /** Tick rate while the screen is idle. Default 20 (never above `fps`). */
  idleFps?: number;
  /** How long without a change makes the screen idle (ms). Default 1000. */
  idleAfterMs?: number;
  /** Receives each frame; the frame's data is valid until the returned promise settles. */
  onFrame(frame: CapturedFrame, info: { refresh: boolean }): void | Promise<void>;
  onError?(err: unknown): void;
  /** Use the source's `waitForChange` when it has one (default true); false forces the ticked loop. */
  wakeOnChange?: boolean;
  /** The clock and timers the loop paces itself with (default: the real ones); tests pass a fake clock. */
  timers?: Timers;
}

export interface CaptureLoopStats {
  ticks: number;
  delivered: number;
  unchanged: number;
  /** Ticks skipped because the consumer was still busy. */
  busy: number;
}

export interface CaptureLoop {
  readonly stats: CaptureLoopStats;
  setFps(fps: number): void;
  /**
   * Delivers the current picture soon even if nothing changed (marked `refresh`): for a keyframe a new
   * viewer or a lost packet needs now, not at the next periodic refresh.
   */
  requestFrame(): void;
  /** Stops ticking and waits for the frame in flight. */
  stop(): Promise<void>;
}

export function startCaptureLoop(source: FrameSource, options: CaptureLoopOptions): CaptureLoop {
  if (source.waitForChange && options.wakeOnChange !== false) return startWokenLoop(source, options);
  return startTickedLoop(source, options);
}

/** The longest single wait for a change; bounds how long a worker thread stays parked. */
const MAX_WAIT_MS = 1000;

function startWokenLoop(source: FrameSource, options: CaptureLoopOptions): CaptureLoop {
  const waitForChange = source.waitForChange!.bind(source);
  const timers = options.timers ?? realTimers;
  const budget = new FrameBudget(options.fps, () => timers.now());
  const refreshMs = options.refreshIntervalMs ?? 1000;
  const stats: CaptureLoopStats = { ticks: 0, delivered: 0, unchanged: 0, busy: 0 };
  let stopped = false;
  let inFlight: Promise<void> | undefined;
  let lastDeliveredAt = 0;
  let pause: { timer: TimerHandle; done: () => void } | undefined;
  let forced = false;
  let kick: (() => void) | undefined;

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        pause = undefined;
        resolve();
      };
      pause = { timer: timers.setTimeout(done, ms), done };
    });

  const run = async (): Promise<void> => {
    let first = true;
    while (!stopped) {
      if (!first) {
        // Returns at once when something was drawn since the last grab (even during the encode).
        const untilRefresh = refreshMs > 0 ? lastDeliveredAt + refreshMs - timers.now() : MAX_WAIT_MS;
        if (!forced) {
          const kicked = new Promise<void>((resolve) => (kick = resolve));
          await Promise.race([waitForChange(Math.min(MAX_WAIT_MS, Math.max(1, untilRefresh))), kicked]);
          kick = undefined;
        }
      }
      first = false;
      const wait = budget.delayMs();
      if (wait > 0) await sleep(wait);
      if (stopped) break;
      stats.ticks += 1;
      try {
        const frame = source.grab();
        const now = timers.now();
        const refresh = !frame.changed && (forced || (refreshMs > 0 && now - lastDeliveredAt >= refreshMs));
        forced = false;
        if (frame.changed || refresh) {
          lastDeliveredAt = now;
          budget.take(now);
          stats.delivered += 1;
          const result = options.onFrame(frame, { refresh });
          if (result) {
            inFlight = result.catch((err: unknown) => options.onError?.(err));
            await inFlight;
            inFlight = undefined;
          }
        } else {
          stats.unchanged += 1;
        }
      } catch (err) {
        options.onError?.(err);
        await sleep(budget.intervalMs);
      }
    }
  };
  const running = run().catch((err: unknown) => options.onError?.(err));
  void running;

  return {
    stats,
    setFps(fps: number) {
      if (!(fps > 0)) throw new RangeError(`fps must be positive, got ${fps}`);
      budget.setFps(fps);
    },
    requestFrame() {
      forced = true;
      kick?.();
    },
    async stop() {
      stopped = true;
      if (pause) {
        timers.clearTimeout(pause.timer);
        pause.done();
      }
      kick?.(); // leave a wait for a change now (the source's own poll ends at its timeout, unused)
      await inFlight;
    },
  };
}

function startTickedLoop(source: FrameSource, options: CaptureLoopOptions): CaptureLoop {
  const timers = options.timers ?? realTimers;
  let intervalMs = 1000 / options.fps;
  const refreshMs = options.refreshIntervalMs ?? 1000;
  const stats: CaptureLoopStats = { ticks: 0, delivered: 0, unchanged: 0, busy: 0 };
  let inFlight: Promise<void> | undefined;
  let lastDeliveredAt = 0;
  let lastChangeAt = timers.now();
  const idleFps = options.idleFps ?? 20;
  const idleAfterMs = options.idleAfterMs ?? 1000;
  let stopped = false;
  let timer: TimerHandle | undefined;
  let next = timers.now();
  let forced = false;

  const tick = (): void => {
    if (stopped) return;
    stats.ticks += 1;
    if (inFlight) {
      stats.busy += 1;
    } else {
      try {
        const frame = source.grab();
        const now = timers.now();
        if (frame.changed) lastChangeAt = now;
        const refresh = !frame.changed && (forced || (refreshMs > 0 && now - lastDeliveredAt >= refreshMs));
        forced = false;
        if (frame.changed || refresh) {
          lastDeliveredAt = now;
          stats.delivered += 1;
          const result = options.onFrame(frame, { refresh });
          if (result) {
            inFlight = result.then(
              () => {
                inFlight = undefined;
              },
              (err: unknown) => {
                inFlight = undefined;
                options.onError?.(err);
              },
            );
          }
        } else {
          stats.unchanged += 1;
        }
      } catch (err) {
        options.onError?.(err);
      }
    }
    const now = timers.now();
    const idle = now - lastChangeAt >= idleAfterMs;
    next += idle ? Math.max(intervalMs, 1000 / idleFps) : intervalMs;
    // After a long stall, start a fresh schedule instead of firing a burst of catch-up ticks.
    if (next < now - intervalMs) next = now;
    timer = timers.setTimeout(tick, Math.max(0, next - now));
  };
  timer = timers.setTimeout(tick, 0);

  return {
    stats,
    setFps(fps: number) {
      if (!(fps > 0)) throw new RangeError(`fps must be positive, got ${fps}`);
      intervalMs = 1000 / fps;
    },
    requestFrame() {
      forced = true; // taken at the next tick (at most 1/idleFps s away)
    },
    async stop() {
      stopped = true;
      if (timer) timers.clearTimeout(timer);
      await inFlight;
    },
  };
}
