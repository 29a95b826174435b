/**
 * A list of callbacks for one event. A listener that throws is logged and the others still run:
 * one faulty consumer (say, the input injector) must not silence the rest or unwind into native code.
 */
import { type Logger } from '../../log/logger.js';

export class Listeners<A extends unknown[]> {
  private readonly list = new Set<(...args: A) => void>();

  constructor(
    private readonly event: string,
    private readonly log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>,
  ) {}

  /** Adds a listener; the returned function removes it. */
  add(cb: (...args: A) => void): () => void {
    this.list.add(cb);
    return () => this.list.delete(cb);
  }

  emit(...args: A): void {
    for (const cb of this.list) {
      try {
        cb(...args);
      } catch (err) {
        this.log.error({ event: this.event, err: String(err) }, 'listener threw');
      }
    }
  }

  clear(): void {
    this.list.clear();
  }
}
