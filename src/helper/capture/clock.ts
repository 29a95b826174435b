/**
 * The capture clock: monotonic microseconds, the same in every module of one process, so a capture
 * timestamp can be subtracted from an encode-done time.
 */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
