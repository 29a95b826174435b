/**
 * Ticks a frame source at a target rate and hands changed frames to a consumer (the encoder).
 *
 * - Unchanged grabs are dropped, except one every `refreshIntervalMs`, which keeps a decoder that joined
 *   late (or lost a packet) fed while the screen is static; a static screen therefore costs one damage
 *   round trip per tick and almost no CPU.
 * - While the consumer is still busy with the previous frame (its promise has not settled), ticks are
 *   skipped rather than queued: latency stays one frame deep and the next grab reads the newest pixels.
 * - Ticks are scheduled against absolute deadlines, so timer jitter does not lower the frame rate.
 * - After `idleAfterMs` without a change the loop ticks at `idleFps` only: a 60 Hz poll of an idle
 *   screen alone costs ~2 % of a core here (timer wake-ups), 20 Hz about a third of that. The price is
 *   up to 1/idleFps s more latency for the first change after a pause; the full rate resumes at once.
 */
import type { CapturedFrame, FrameSource } from './capturer.js';

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
  /** Stops ticking and waits for the frame in flight. */
  stop(): Promise<void>;
}

export function startCaptureLoop(source: FrameSource, options: CaptureLoopOptions): CaptureLoop {
  let intervalMs = 1000 / options.fps;
  const refreshMs = options.refreshIntervalMs ?? 1000;
  const stats: CaptureLoopStats = { ticks: 0, delivered: 0, unchanged: 0, busy: 0 };
  let inFlight: Promise<void> | undefined;
  let lastDeliveredAt = 0;
  let lastChangeAt = performance.now();
  const idleFps = options.idleFps ?? 20;
  const idleAfterMs = options.idleAfterMs ?? 1000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let next = performance.now();

  const tick = (): void => {
    if (stopped) return;
    stats.ticks += 1;
    if (inFlight) {
      stats.busy += 1;
    } else {
      try {
        const frame = source.grab();
        const now = performance.now();
        if (frame.changed) lastChangeAt = now;
        const refresh = !frame.changed && refreshMs > 0 && now - lastDeliveredAt >= refreshMs;
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
    const now = performance.now();
    const idle = now - lastChangeAt >= idleAfterMs;
    next += idle ? Math.max(intervalMs, 1000 / idleFps) : intervalMs;
    // After a long stall, start a fresh schedule instead of firing a burst of catch-up ticks.
    if (next < now - intervalMs) next = now;
    timer = setTimeout(tick, Math.max(0, next - now));
  };
  timer = setTimeout(tick, 0);

  return {
    stats,
    setFps(fps: number) {
      if (!(fps > 0)) throw new RangeError(`fps must be positive, got ${fps}`);
      intervalMs = 1000 / fps;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight;
    },
  };
}
