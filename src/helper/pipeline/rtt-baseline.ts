/**
 * The path's base round-trip time and how far the latest one rises above it. The base is the least
 * RTT over the last `baseWindowMs`, so it can rise again after a route change; a rise above it is
 * time spent in a queue (on a 1 Mb/s bench link, 43 → 270 ms while sending over the link rate).
 */
export class RttBaseline {
  /** Increasing RTTs in time order: the front is the least within the window (a monotonic queue). */
  private mins: { atMs: number; rttMs: number }[] = [];
  private latest: number | undefined;

  constructor(private readonly baseWindowMs: number) {}

  /** Adds one RTT sample; NaN, infinite or negative ones are ignored (returns false). */
  add(rttMs: number, atMs: number): boolean {
    if (!Number.isFinite(rttMs) || rttMs < 0 || !Number.isFinite(atMs)) return false;
    while (this.mins.length > 0 && this.mins.at(-1)!.rttMs >= rttMs) this.mins.pop();
    this.mins.push({ atMs, rttMs });
    while (this.mins[0]!.atMs < atMs - this.baseWindowMs) this.mins.shift();
    this.latest = rttMs;
    return true;
  }

  get baseMs(): number | undefined {
    return this.mins[0]?.rttMs;
  }

  /** Latest RTT minus the base; undefined before the first sample. */
  get riseMs(): number | undefined {
    const base = this.baseMs;
    return this.latest === undefined || base === undefined ? undefined : this.latest - base;
  }
}
