import { watch, type FSWatcher } from 'node:fs';
import type { DetectedSession, SessionEvent } from './session-detector.js';
import { diffSessions } from './session-diff.js';
import { type Logger } from '../../log/logger.js';
import { errorKind, errorMessage } from '../../errors/error-text.js';

export interface SessionPollerOptions {
  /** Reads the current sessions. May reject: the poller logs and tries again at the next tick. */
  read: () => Promise<DetectedSession[]>;
  pollMs: number;
  /** A directory whose changes trigger a read sooner than the next tick (the X socket directory). */
  watchDir?: string;
  /** How long to let a burst of directory changes settle before reading. */
  debounceMs?: number;
  log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
}

/**
 * Reads sessions on a timer (and soon after a watched directory changes), diffs each read against the
 * last one and hands the events to a listener. Reads never overlap, nothing it does throws out of a
 * timer, each kind of failure is logged once until a read succeeds again, and stop() leaves no timer,
 * watcher or read behind, so the process can exit.
 */
export class SessionPoller {
  readonly #opts: SessionPollerOptions;
  #listener: ((event: SessionEvent) => void) | null = null;
  #last: DetectedSession[] = [];
  #timer: NodeJS.Timeout | null = null;
  #debounce: NodeJS.Timeout | null = null;
  #watcher: FSWatcher | null = null;
  #reading: Promise<void> | null = null;
  #readAgain = false;
  #running = false;
  readonly #loggedFailures = new Set<string>();

  constructor(opts: SessionPollerOptions) {
    this.#opts = opts;
  }

  /** Takes the current sessions as the baseline (no events for them) and starts watching. */
  async start(listener: (event: SessionEvent) => void): Promise<void> {
    if (this.#running) throw new Error('session detector already started');
    this.#running = true;
    try {
      this.#last = await this.#opts.read();
    } catch (err) {
      this.#running = false;
      throw err;
    }
    if (!this.#running) return; // stopped while the baseline was read
    this.#listener = listener;
    this.#watchDir();
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#listener = null;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#timer = this.#debounce = null;
    this.#watcher?.close();
    this.#watcher = null;
    this.#readAgain = false;
    await this.#reading;
  }

  #schedule(): void {
    if (!this.#running) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#poll(), this.#opts.pollMs);
  }

  /** Reads now, or right after the read in progress ends. */
  #poll(): void {
    if (!this.#running) return;
    if (this.#reading) {
      this.#readAgain = true;
      return;
    }
    this.#reading = this.#readAndDiff().finally(() => {
      this.#reading = null;
      if (this.#readAgain) {
        this.#readAgain = false;
        this.#poll();
      } else {
        this.#schedule();
      }
    });
  }

  async #readAndDiff(): Promise<void> {
    let now: DetectedSession[];
    try {
      now = await this.#opts.read();
    } catch (err) {
      this.#failedOnce('read', err);
      return;
    }
    this.#recovered('read');
    if (!this.#running) return;
    const events = diffSessions(this.#last, now);
    this.#last = now;
    for (const event of events) {
      this.#opts.log.info({ kind: event.kind, sessionId: event.sessionId }, 'session event');
      try {
        this.#listener?.(event);
      } catch (err) {
        this.#failedOnce('listener', err);
      }
    }
    if (this.#watcher === null) this.#watchDir(); // the directory may exist by now
  }

  #watchDir(): void {
    const dir = this.#opts.watchDir;
    if (dir === undefined || !this.#running) return;
    try {
      const watcher = watch(dir, { persistent: true }, () => this.#changed());
      watcher.on('error', (err) => {
        this.#failedOnce('watch', err);
        watcher.close();
        if (this.#watcher === watcher) this.#watcher = null;
      });
      this.#watcher = watcher;
    } catch (err) {
      // No directory yet (no X server has run since boot) or no inotify: the timer still polls.
      const key = `watch-setup:${errorKind(err)}`;
      if (!this.#loggedFailures.has(key)) {
        this.#loggedFailures.add(key);
        this.#opts.log.debug(
          { dir, code: errorKind(err) },
          'cannot watch the session directory; polling only',
        );
      }
    }
  }

  #changed(): void {
    if (!this.#running) return;
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = null;
      this.#poll();
    }, this.#opts.debounceMs ?? 100);
  }

  #failedOnce(where: string, err: unknown): void {
    const key = `${where}:${errorKind(err)}`;
    if (this.#loggedFailures.has(key)) return;
    this.#loggedFailures.add(key);
    this.#opts.log.warn({ where, code: errorKind(err), err: errorMessage(err) }, 'session detection failed');
  }

  /** Forgets the failures logged for `where`, so that a later outage is logged again. */
  #recovered(where: string): void {
    const prefix = `${where}:`;
    let had = false;
    for (const key of this.#loggedFailures) {
      if (key.startsWith(prefix)) {
        this.#loggedFailures.delete(key);
        had = true;
      }
    }
    if (had) this.#opts.log.info({ where }, 'session detection recovered');
  }
}
