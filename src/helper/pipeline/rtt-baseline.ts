/**
 * The path's base round-trip time and how far the RTT now rises above it, both read through jitter.
 * The RTT "now" is the median of the samples of the last `smoothMs` (at least 5), and the base is the least of those
 * medians over the last `baseWindowMs` (so it can rise again after a route change). A rise is time
 * spent in a queue (on a 1 Mb/s bench link, 43 → 270 ms while sending over the link rate). Raw samples
 * would not do: with ±40 ms of jitter (the bench's `bad` profile) the least raw sample sits ~40 ms
 * below the typical one and single samples swing both ways, so a standing queue never looked
 * "sustained" and jitter alone looked like a queue building.
 */
/** A median of fewer samples is one sample's jitter: the base and the rise wait for this many. */
const MEDIAN_SAMPLES = 5;

export class RttBaseline {
  private recent: { atMs: number; rttMs: number }[] = [];
  /** Increasing medians in time order: the front is the least within the window (a monotonic queue). */
  private mins: { atMs: number; rttMs: number }[] = [];
  private smoothed: number | undefined;

  constructor(
    private readonly baseWindowMs: number,
    private readonly smoothMs = 1_000,
  ) {}

  /** Adds one RTT sample; NaN, infinite or negative ones are ignored (returns false). */
  add(rttMs: number, atMs: number): boolean {
    if (!Number.isFinite(rttMs) || rttMs < 0 || !Number.isFinite(atMs)) return false;
    this.recent.push({ atMs, rttMs });
    // The last `smoothMs`, but never fewer than MEDIAN_SAMPLES (a quiet viewer reports about once a second).
    while (this.recent.length > MEDIAN_SAMPLES && this.recent[0]!.atMs < atMs - this.smoothMs)
      this.recent.shift();
    if (this.recent.length < MEDIAN_SAMPLES) return true;
    const sorted = this.recent.map((s) => s.rttMs).sort((a, b) => a - b);
    const median = sorted[sorted.length >> 1]!;
    this.smoothed = median;
    while (this.mins.length > 0 && this.mins.at(-1)!.rttMs >= median) this.mins.pop();
    this.mins.push({ atMs, rttMs: median });
    while (this.mins[0]!.atMs < atMs - this.baseWindowMs) this.mins.shift();
    return true;
  }

  get baseMs(): number | undefined {
    return this.mins[0]?.rttMs;
  }

  /** The RTT now (median of the last `smoothMs`) minus the base; undefined until MEDIAN_SAMPLES came. */
  get riseMs(): number | undefined {
    const base = this.baseMs;
    return this.smoothed === undefined || base === undefined ? undefined : this.smoothed - base;
  }
}
