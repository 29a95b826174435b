/**
 * Spreads the video's packets over time at a multiple of the stream's bitrate, so a keyframe leaves as
 * a stream rather than a burst that overflows a shallow router queue, and keeps the sender's own queue
 * short: when what is waiting would take longer than `maxQueueMs` to leave, it is all dropped and the
 * owner is told (it then skips frames until a fresh keyframe rather than sending a picture the viewer
 * could not decode). Frames of ordinary size leave at once: a burst of `burstMs` of the pacing rate is
 * always allowed, so pacing costs latency only for frames much larger than the average.
 */
import type { TimerHandle, Timers } from '../../../time/timers.js';

export interface PacedItem {
  bytes: number;
  /** Puts the packet on the wire (the item builds it only now: sequence numbers follow send order). */
  send(): void;
}

export interface PacerOptions {
  timers: Timers;
  /** What was waiting was dropped (the queue outgrew `maxQueueMs`). */
  onOverflow(droppedItems: number): void;
  /** Pacing rate = this × the stream's bitrate. */
  factor?: number;
  burstMs?: number;
  maxQueueMs?: number;
}

export const PACING_FACTOR = 2.5;
const DEFAULT_BURST_MS = 20;
const DEFAULT_MAX_QUEUE_MS = 400;
/** Never pace slower than this, whatever the bitrate says (bytes per ms: 1 Mb/s). */
const MIN_RATE_BYTES_PER_MS = 125;
const MIN_BURST_BYTES = 2 * 1300;

export class Pacer {
  private readonly urgent: PacedItem[] = [];
  private readonly queue: PacedItem[] = [];
  private queuedBytes = 0;
  private budget = 0;
  private refilledAt: number | undefined;
  private timer: TimerHandle | undefined;
  private bytesPerMs = MIN_RATE_BYTES_PER_MS;
  private closed = false;
  private readonly factor: number;
  private readonly burstMs: number;
  private readonly maxQueueMs: number;
  /** Items dropped by overflows so far. */
  dropped = 0;

  constructor(private readonly opts: PacerOptions) {
    this.factor = opts.factor ?? PACING_FACTOR;
    this.burstMs = opts.burstMs ?? DEFAULT_BURST_MS;
    this.maxQueueMs = opts.maxQueueMs ?? DEFAULT_MAX_QUEUE_MS;
  }

  /** The stream's bitrate now; the pacing rate follows it. */
  setBitrate(bps: number): void {
    if (!(bps > 0)) return;
    this.bytesPerMs = Math.max(MIN_RATE_BYTES_PER_MS, (bps * this.factor) / 8 / 1000);
  }

  /** Queues packets; `urgent` ones (retransmissions) go before anything not yet sent. */
  push(items: readonly PacedItem[], urgent = false): void {
    if (this.closed || items.length === 0) return;
    for (const item of items) {
      (urgent ? this.urgent : this.queue).push(item);
      this.queuedBytes += item.bytes;
    }
    if (this.queuedBytes / this.bytesPerMs > this.maxQueueMs) {
      const n = this.urgent.length + this.queue.length;
      this.urgent.length = 0;
      this.queue.length = 0;
      this.queuedBytes = 0;
      this.dropped += n;
      this.opts.onOverflow(n);
      return;
    }
    this.drain();
  }

  get waitingBytes(): number {
    return this.queuedBytes;
  }

  close(): void {
    this.closed = true;
    this.opts.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.urgent.length = 0;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }

  private drain(): void {
    if (this.timer || this.closed) return;
    const now = this.opts.timers.now();
    const cap = Math.max(MIN_BURST_BYTES, this.bytesPerMs * this.burstMs);
    this.budget =
      this.refilledAt === undefined
        ? cap
        : Math.min(cap, this.budget + (now - this.refilledAt) * this.bytesPerMs);
    this.refilledAt = now;
    // The budget may go below zero by one packet: a packet is never split or held for a fraction.
    while (this.budget > 0) {
      const item = this.urgent.shift() ?? this.queue.shift();
      if (!item) break;
      this.queuedBytes -= item.bytes;
      this.budget -= item.bytes;
      item.send();
    }
    if (this.urgent.length + this.queue.length === 0) return;
    const waitMs = Math.max(1, Math.ceil(-this.budget / this.bytesPerMs));
    this.timer = this.opts.timers.setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, waitMs);
    this.timer.unref();
  }
}
