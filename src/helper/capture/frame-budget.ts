/**
 * How many frames the woken capture loop may grab: a token bucket refilled at the target rate and
 * holding at most BURST_FRAMES. The average stays at `fps`, but a change drawn right after an
 * irregular gap (a busy machine makes any 60 Hz source jittery) is grabbed at once instead of waiting
 * out a fixed interval.
 */
const BURST_FRAMES = 2;
/**
 * Refills accumulate in floating point, so a token that has exactly come due can read 0.99999999999997
 * (and the loop would sleep 3e-14 ms). Deficits below this many frames count as none.
 */
const EPSILON_FRAMES = 1e-9;

/** A token bucket of frames: `take()` spends one; `delayMs()` says how long until one is there. */
export class FrameBudget {
  private tokens = BURST_FRAMES;
  private at: number;
  /** `clock` reads milliseconds (default `performance.now`); tests pass their own. */
  constructor(
    private fps: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.at = clock();
  }
  get intervalMs(): number {
    return 1000 / this.fps;
  }
  setFps(fps: number): void {
    this.refill(this.clock());
    this.fps = fps;
  }
  delayMs(now = this.clock()): number {
    this.refill(now);
    const deficit = 1 - this.tokens;
    return deficit <= EPSILON_FRAMES ? 0 : (deficit * 1000) / this.fps;
  }
  take(now = this.clock()): void {
    this.refill(now);
    this.tokens -= 1;
  }
  private refill(now: number): void {
    this.tokens = Math.min(BURST_FRAMES, this.tokens + ((now - this.at) * this.fps) / 1000);
    this.at = now;
  }
}
