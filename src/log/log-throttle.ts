/**
 * A logger that passes on at most `max` lines per window and then says, once, how many it held back.
 * For lines whose rate someone else controls: a helper's log forwarded into the service's log (a
 * hostile or broken helper could otherwise write thousands a second), refused connections.
 */
import { realTimers, type TimerHandle, type Timers } from '../time/timers.js';
import type { Logger } from './logger.js';

type Level = 'debug' | 'info' | 'warn' | 'error';

export interface LogThrottleOptions {
  /** Lines passed on per window. */
  max: number;
  windowMs: number;
  timers?: Timers;
  /** Fields on the summary line (e.g. the session it is about). */
  about?: object;
}

export class LogThrottle implements Pick<Logger, Level> {
  private readonly timers: Timers;
  private windowStart: number;
  private written = 0;
  private suppressed = 0;
  private summaryTimer: TimerHandle | undefined;

  constructor(
    private readonly log: Pick<Logger, Level>,
    private readonly opts: LogThrottleOptions,
  ) {
    this.timers = opts.timers ?? realTimers;
    this.windowStart = this.timers.now();
  }

  debug(obj: object, msg?: string): void {
    this.write('debug', obj, msg);
  }
  info(obj: object, msg?: string): void {
    this.write('info', obj, msg);
  }
  warn(obj: object, msg?: string): void {
    this.write('warn', obj, msg);
  }
  error(obj: object, msg?: string): void {
    this.write('error', obj, msg);
  }

  /** Writes the pending summary, if any, and stops the timer (the source is gone). */
  close(): void {
    this.timers.clearTimeout(this.summaryTimer);
    this.summaryTimer = undefined;
    this.summarize();
  }

  private write(level: Level, obj: object, msg: string | undefined): void {
    const now = this.timers.now();
    if (now - this.windowStart >= this.opts.windowMs) {
      this.summarize();
      this.windowStart = now;
      this.written = 0;
    }
    if (this.written < this.opts.max) {
      this.written += 1;
      this.log[level](obj, msg);
      return;
    }
    this.suppressed += 1;
    if (this.summaryTimer) return;
    // The summary comes when the window ends, even if nothing is logged after it.
    const left = this.windowStart + this.opts.windowMs - now;
    this.summaryTimer = this.timers.setTimeout(() => {
      this.summaryTimer = undefined;
      this.summarize();
    }, left);
    this.summaryTimer.unref();
  }

  private summarize(): void {
    if (this.suppressed === 0) return;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    this.log.warn(
      { ...this.opts.about, suppressed, windowMs: this.opts.windowMs },
      `${suppressed} more log lines suppressed`,
    );
  }
}
