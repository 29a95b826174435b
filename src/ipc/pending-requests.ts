/**
 * The requests this side sent that await a response: ids, timeouts, and the cap on how many may be
 * outstanding. Ids are uint32, never 0 (0 marks envelopes that need no answer), and wrap around.
 */
import { MAX_REQUEST_ID } from './envelope.js';
import { RequestTimeoutError, TooManyRequestsError } from './errors.js';

export interface Waiter<T> {
  resolve: (body: T) => void;
  reject: (err: Error) => void;
}

export class PendingRequests<T> {
  private readonly waiting = new Map<number, Waiter<T> & { timer: NodeJS.Timeout }>();
  private nextId = 1;

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.waiting.size;
  }

  /**
   * Allocates an id and calls `send(id)`; the promise settles with the response, a
   * RequestTimeoutError after `timeoutMs`, or whatever `send` threw. Rejects with
   * TooManyRequestsError when `limit` requests are already waiting.
   */
  open(timeoutMs: number, send: (id: number) => void): Promise<T> {
    if (this.waiting.size >= this.limit) return Promise.reject(new TooManyRequestsError(this.limit));
    const id = this.allocateId();
    return new Promise<T>((resolve, reject) => {
      send(id); // a throw here rejects the promise and registers nothing
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new RequestTimeoutError(timeoutMs));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
    });
  }

  /** Removes and returns the waiter for `id`; undefined for an unknown or timed-out id. */
  take(id: number): Waiter<T> | undefined {
    const waiter = this.waiting.get(id);
    if (!waiter) return undefined;
    clearTimeout(waiter.timer);
    this.waiting.delete(id);
    return waiter;
  }

  rejectAll(err: Error): void {
    for (const id of [...this.waiting.keys()]) this.take(id)?.reject(err);
  }

  private allocateId(): number {
    // The map holds at most `limit` ids, so a free one is always found quickly.
    while (this.waiting.has(this.nextId)) this.advance();
    const id = this.nextId;
    this.advance();
    return id;
  }

  private advance(): void {
    this.nextId = this.nextId >= MAX_REQUEST_ID ? 1 : this.nextId + 1;
  }
}
