/**
 * Time as a dependency: code that waits, retries or rate-limits takes a `Timers` so tests can run it
 * on a fake clock (test/fixtures/fake-clock.ts) instead of depending on how fast a loaded machine is.
 * Imports nothing; the service and the helper both use it.
 */

/** What `setTimeout` hands back: enough to let the timer not hold the process open. */
export interface TimerHandle {
  unref(): unknown;
}

export interface Timers {
  /** Milliseconds on a monotonic clock (any epoch). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** `performance.now` and the global timers. */
export const realTimers: Timers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
};
