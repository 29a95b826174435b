/**
 * Token buckets keyed by client address, on an injected clock. A bucket holds up to `burst` tokens
 * and regains one every `refillMs`; taking from an empty bucket tells how long until the next token
 * (the `Retry-After`). Memory is bounded: past `maxKeys` addresses, full buckets (which carry no
 * state worth keeping) are dropped first, then the least recently used.
 */
export interface RateLimit {
  burst: number;
  refillMs: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class AddressRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number,
    private readonly maxKeys = 10_000,
  ) {
    if (limit.burst < 1 || limit.refillMs <= 0)
      throw new RangeError('a rate limit needs burst ≥ 1 and refillMs > 0');
  }

  /** Milliseconds until `key` has a token again; 0 when it has one now. Takes nothing. */
  waitMs(key: string): number {
    const b = this.current(key);
    if (b.tokens >= 1) return 0;
    return Math.ceil((1 - b.tokens) * this.limit.refillMs);
  }

  /** Takes one token from `key`'s bucket (down to zero; a caller checks waitMs first). */
  take(key: string): void {
    const b = this.current(key);
    b.tokens = Math.max(0, b.tokens - 1);
    this.buckets.delete(key);
    this.buckets.set(key, b);
    this.evict();
  }

  get size(): number {
    return this.buckets.size;
  }

  private current(key: string): Bucket {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.limit.burst, at: t };
    b.tokens = Math.min(this.limit.burst, b.tokens + Math.max(0, t - b.at) / this.limit.refillMs);
    b.at = t;
    return b;
  }

  private evict(): void {
    if (this.buckets.size <= this.maxKeys) return;
    const t = this.now();
    for (const [k, b] of this.buckets) {
      if (this.buckets.size <= this.maxKeys) return;
      if (b.tokens + (t - b.at) / this.limit.refillMs >= this.limit.burst) this.buckets.delete(k);
    }
    for (const k of this.buckets.keys()) {
      if (this.buckets.size <= this.maxKeys) return;
      this.buckets.delete(k);
    }
  }
}
