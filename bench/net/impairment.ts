/**
 * What the impairing router does to each packet, free of sockets and timers so that it is tested on a
 * seeded generator and a hand-moved clock: per direction a delay with jitter, a loss probability, a
 * reorder probability, and total outages. The router (router.ts) only reads packets, asks
 * `ImpairedDirection.admit` when to let each one out, and keeps them in a `ReleaseQueue` until then.
 */

/** Uniform numbers in [0, 1). */
export type Rng = () => number;

/** A small deterministic 32-bit generator (mulberry32): the same seed gives the same run. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** One direction of a link. */
export interface Impairment {
  /** Delay added to every packet, ms. */
  delayMs: number;
  /** Each packet's delay is drawn uniformly from delayMs ± jitterMs (never below 0). */
  jitterMs: number;
  /** Probability that a packet is dropped, 0..1. */
  loss: number;
  /**
   * Probability that a packet is let out of order. Packets otherwise leave in the order they came
   * (jitter stretches the gaps between them, as a radio link's retries do, but does not swap them); a
   * reordered packet takes the shortest delay of the range and is not held behind earlier packets,
   * so it overtakes those queued less than 2 × jitterMs before it.
   */
  reorder: number;
}

export const NO_IMPAIRMENT: Impairment = { delayMs: 0, jitterMs: 0, loss: 0, reorder: 0 };

export interface DirectionStats {
  packets: number;
  bytes: number;
  lost: number;
  /** Dropped because they arrived during an outage. */
  outageDropped: number;
  reordered: number;
}

export function checkImpairment(i: Impairment): void {
  const bad = (what: string): never => {
    throw new RangeError(`impairment: ${what}`);
  };
  if (!(i.delayMs >= 0 && i.delayMs <= 10_000)) bad(`delayMs ${i.delayMs} is not within 0..10000`);
  if (!(i.jitterMs >= 0 && i.jitterMs <= 10_000)) bad(`jitterMs ${i.jitterMs} is not within 0..10000`);
  if (!(i.loss >= 0 && i.loss <= 1)) bad(`loss ${i.loss} is not within 0..1`);
  if (!(i.reorder >= 0 && i.reorder <= 1)) bad(`reorder ${i.reorder} is not within 0..1`);
}

/**
 * Decides each packet's fate in one direction. Draws from `rng` in a fixed order (loss, then
 * reorder, then jitter), so a seed reproduces a run packet for packet.
 */
export class ImpairedDirection {
  private impairment: Impairment;
  /** Release time of the last in-order packet: later in-order packets never leave before it. */
  private lastInOrder = -Infinity;
  private outageUntil = -Infinity;
  readonly stats: DirectionStats = { packets: 0, bytes: 0, lost: 0, outageDropped: 0, reordered: 0 };

  constructor(
    impairment: Impairment,
    private readonly rng: Rng,
  ) {
    checkImpairment(impairment);
    this.impairment = { ...impairment };
  }

  get current(): Impairment {
    return { ...this.impairment };
  }

  set(impairment: Impairment): void {
    checkImpairment(impairment);
    this.impairment = { ...impairment };
  }

  /** Drops every packet that arrives before `untilMs`. */
  outage(untilMs: number): void {
    this.outageUntil = Math.max(this.outageUntil, untilMs);
  }

  /** The time to release a packet that arrived at `nowMs`, or undefined when it is dropped. */
  admit(nowMs: number, bytes: number): number | undefined {
    this.stats.packets += 1;
    this.stats.bytes += bytes;
    if (nowMs < this.outageUntil) {
      this.stats.outageDropped += 1;
      return undefined;
    }
    const { delayMs, jitterMs, loss, reorder } = this.impairment;
    if (loss > 0 && this.rng() < loss) {
      this.stats.lost += 1;
      return undefined;
    }
    if (reorder > 0 && this.rng() < reorder) {
      this.stats.reordered += 1;
      return nowMs + Math.max(0, delayMs - jitterMs);
    }
    const jitter = jitterMs > 0 ? (this.rng() * 2 - 1) * jitterMs : 0;
    const at = Math.max(nowMs + Math.max(0, delayMs + jitter), this.lastInOrder);
    this.lastInOrder = at;
    return at;
  }
}

/** Packets waiting for their release time: a binary heap on (time, arrival order). */
export class ReleaseQueue<T> {
  private readonly heap: { at: number; seq: number; item: T }[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** The earliest release time, or undefined when empty. */
  get nextAt(): number | undefined {
    return this.heap[0]?.at;
  }

  push(at: number, item: T): void {
    const h = this.heap;
    h.push({ at, seq: this.seq++, item });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  /** Removes and returns, in release order, every item due at or before `nowMs`. */
  takeDue(nowMs: number): T[] {
    const out: T[] = [];
    while (this.heap.length > 0 && this.heap[0]!.at <= nowMs) out.push(this.pop());
    return out;
  }

  clear(): void {
    this.heap.length = 0;
  }

  private pop(): T {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(l, m)) m = l;
        if (r < h.length && this.less(r, m)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top.item;
  }

  private less(a: number, b: number): boolean {
    const x = this.heap[a]!;
    const y = this.heap[b]!;
    return x.at < y.at || (x.at === y.at && x.seq < y.seq);
  }
}

/**
 * A model of Linux's `tbf` qdisc, to check a profile's numbers before handing them to the kernel:
 * tokens (bytes) fill at `rateBps / 8` a second up to `burstBytes`; a packet leaves when the bucket
 * holds its size; packets wait in a FIFO of at most `limitBytes` and one that does not fit is dropped.
 * With `limitBytes = rate × latency + burst` (what `tc … tbf latency` computes) a packet waits at
 * most `latency` plus the burst's worth at the rate: under a sustained overload the bucket is empty
 * and the whole queue drains at the rate.
 */
export class TokenBucket {
  private tokens: number;
  private lastAt = 0;
  /** Departure times of the packets still queued (bytes each), oldest first. */
  private readonly queue: { bytes: number; leaveAt: number }[] = [];
  private tailLeaveAt = 0;

  constructor(
    private readonly rateBps: number,
    private readonly burstBytes: number,
    private readonly limitBytes: number,
  ) {
    this.tokens = burstBytes;
  }

  /** Queued bytes at `nowMs` (packets that have not left yet). */
  backlog(nowMs: number): number {
    while (this.queue.length > 0 && this.queue[0]!.leaveAt <= nowMs) this.queue.shift();
    return this.queue.reduce((s, p) => s + p.bytes, 0);
  }

  /** When a packet of `bytes` arriving at `nowMs` leaves, or undefined when the queue is full. */
  offer(nowMs: number, bytes: number): number | undefined {
    if (this.backlog(nowMs) + bytes > this.limitBytes) return undefined;
    // Tokens as of the moment this packet reaches the head of the queue.
    const start = Math.max(nowMs, this.tailLeaveAt);
    this.tokens = Math.min(this.burstBytes, this.tokens + ((start - this.lastAt) * this.rateBps) / 8000);
    this.lastAt = start;
    let leaveAt = start;
    if (this.tokens < bytes) {
      leaveAt = start + ((bytes - this.tokens) * 8000) / this.rateBps;
      this.tokens = bytes;
      this.lastAt = leaveAt;
    }
    this.tokens -= bytes;
    this.tailLeaveAt = leaveAt;
    this.queue.push({ bytes, leaveAt });
    return leaveAt;
  }
}
