/**
 * Exponential backoff with full jitter: the n-th delay is uniform in [base·2ⁿ/2, base·2ⁿ], capped.
 * Half-jitter keeps a floor so a crash loop never spins, while spreading many agents reconnecting to
 * one API after an outage.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  constructor(private readonly opts: BackoffOptions) {}

  next(): number {
    const ceiling = Math.min(this.opts.maxMs, this.opts.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    const r = (this.opts.random ?? Math.random)();
    return Math.round(ceiling / 2 + (r * ceiling) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

/** Counts failures inside a sliding time window (e.g. 5 in 5 minutes) to cap respawns. */
export class FailureWindow {
  private times: number[] = [];
  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a failure; returns true when the cap is now reached. */
  record(): boolean {
    const t = this.now();
    this.times = this.times.filter((x) => t - x < this.windowMs);
    this.times.push(t);
    return this.times.length >= this.max;
  }

  get count(): number {
    const t = this.now();
    return this.times.filter((x) => t - x < this.windowMs).length;
  }

  clear(): void {
    this.times = [];
  }
}
