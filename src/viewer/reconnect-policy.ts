/**
 * When a connection counts as dropped, and how often to try again. The timers are injected so the
 * behaviour is tested with fake clocks rather than real waits.
 */

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const browserTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** 'disconnected' often heals by itself (a Wi-Fi hiccup); only this long of it counts as a drop. */
export const DISCONNECTED_GRACE_MS = 3000;

/**
 * Watches RTCPeerConnection.iceConnectionState and calls `onDrop` once: at 'failed' at once, or
 * after 'disconnected' has lasted DISCONNECTED_GRACE_MS without recovering.
 */
export class IceDropWatch {
  private timer: unknown;
  private dropped = false;

  constructor(
    private readonly onDrop: (reason: string) => void,
    private readonly timers: Timers = browserTimers,
    private readonly graceMs = DISCONNECTED_GRACE_MS,
  ) {}

  update(state: string): void {
    if (this.dropped) return;
    if (state === 'failed') {
      this.drop('ICE failed');
    } else if (state === 'disconnected') {
      this.timer ??= this.timers.setTimeout(() => this.drop('ICE disconnected'), this.graceMs);
    } else {
      this.cancelTimer();
    }
  }

  dispose(): void {
    this.dropped = true;
    this.cancelTimer();
  }

  private drop(reason: string): void {
    this.cancelTimer();
    this.dropped = true;
    this.onDrop(reason);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export interface ReconnectOptions {
  maxAttempts: number;
  /** Delay before attempt n (1-based). */
  delayMs: (attempt: number) => number;
}

export const DEFAULT_RECONNECT: ReconnectOptions = {
  maxAttempts: 5,
  // 1 s, 2 s, 4 s, 8 s, 8 s: quick for a blip, and a restarting helper gets time to come back.
  delayMs: (n) => Math.min(8000, 1000 * 2 ** (n - 1)),
};

/**
 * Whether an attempt that failed with this HTTP status is worth repeating: network failures (0),
 * timeouts, capacity answers (429 and 5xx, which say when in `Retry-After`) are; any other 4xx (a bad
 * request, no such session) will not change by waiting.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

/** The wait before the next attempt: the budget's, but never shorter than the server asked. */
export function retryDelayMs(budgetDelayMs: number, retryAfterMs: number | undefined): number {
  return Math.max(budgetDelayMs, retryAfterMs ?? 0);
}

/** Counts attempts for one drop; reset once a connection is up again. */
export class ReconnectBudget {
  private attempts = 0;
  constructor(private readonly options: ReconnectOptions = DEFAULT_RECONNECT) {}

  /** The next attempt's number and delay, or undefined when it is time to give up. */
  next(): { attempt: number; delayMs: number } | undefined {
    if (this.attempts >= this.options.maxAttempts) return undefined;
    this.attempts++;
    return { attempt: this.attempts, delayMs: this.options.delayMs(this.attempts) };
  }

  get maxAttempts(): number {
    return this.options.maxAttempts;
  }

  reset(): void {
    this.attempts = 0;
  }
}

/** Nothing at all received on a connected peer connection this long means its path is gone. */
export const SILENCE_MS = 3000;
/** How often the received count is read (one getStats() a second). */
export const SILENCE_POLL_MS = 1000;

/**
 * A path that died without ICE saying so: Chromium kept a peer connection whose local address vanished
 * (Wi-Fi → 4G) `connected` for 34 s in the network-change e2e test (its dead-connection timeout is
 * 30 s). The bytes the peer connection receives count (media, RTCP, DataChannels; on an idle desktop
 * the helper's sender reports every second and a refresh frame every 2.5 s), read by `sample`. When the count has
 * not grown for SILENCE_MS while running, `onSilent` is called once. Once a count was seen, a sample
 * without one (the candidate pairs left the stats) or one that does not answer is no progress either.
 */
export class SilenceWatch {
  private timer: unknown;
  private last: number | undefined;
  private since = 0;
  private done = false;
  private reading = false;

  constructor(
    private readonly sample: () => Promise<number | undefined>,
    private readonly onSilent: (reason: string) => void,
    private readonly timers: Timers & { now(): number } = { ...browserTimers, now: () => Date.now() },
    private readonly silenceMs = SILENCE_MS,
    private readonly pollMs = SILENCE_POLL_MS,
  ) {}

  /** Starts watching (the peer connection connected); again later is a no-op. */
  start(): void {
    if (this.done || this.timer !== undefined) return;
    this.since = this.timers.now();
    this.schedule();
  }

  dispose(): void {
    this.done = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    this.timer = this.timers.setTimeout(() => this.tick(), this.pollMs);
  }

  private tick(): void {
    if (this.done) return;
    const now = this.timers.now();
    // Before any count was seen (no stats yet) nothing is judged.
    if (this.last !== undefined && now - this.since >= this.silenceMs) {
      this.dispose();
      this.onSilent(`nothing received for ${Math.round((now - this.since) / 1000)} s`);
      return;
    }
    if (!this.reading) void this.read();
    this.schedule();
  }

  private async read(): Promise<void> {
    this.reading = true;
    let count: number | undefined;
    try {
      count = await this.sample();
    } catch {
      count = undefined;
    } finally {
      this.reading = false;
    }
    if (this.done || count === undefined || count === this.last) return;
    this.last = count;
    this.since = this.timers.now();
  }
}
