/**
 * How many frames the woken capture loop may grab: a token bucket refilled at the target rate and
 * holding at most BURST_FRAMES. The average stays at `fps`, but a change drawn right after an
 * irregular gap (a busy machine makes any 60 Hz source jittery) is grabbed at once instead of waiting
 * out a fixed interval.
 */
const BURST_FRAMES = 2;

/** A token bucket of frames: `take()` spends one; `delayMs()` says how long until one is there. */
export class FrameBudget {
  private tokens = BURST_FRAMES;
  private at = performance.now();
  constructor(private fps: number) {}
  get intervalMs(): number {
    return 1000 / this.fps;
  }
  setFps(fps: number): void {
    this.refill(performance.now());
    this.fps = fps;
  }
  delayMs(now = performance.now()): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) * 1000) / this.fps;
  }
  take(now = performance.now()): void {
    this.refill(now);
    this.tokens -= 1;
  }
  private refill(now: number): void {
    this.tokens = Math.min(BURST_FRAMES, this.tokens + ((now - this.at) * this.fps) / 1000);
    this.at = now;
  }
}
