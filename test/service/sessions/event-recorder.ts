import type { SessionEvent } from '../../../src/service/sessions/session-detector.js';

/** Collects a detector's events and lets a test wait for the one it expects. */
export class EventRecorder {
  readonly events: SessionEvent[] = [];
  #waiters: { match: (e: SessionEvent) => boolean; resolve: (e: SessionEvent) => void }[] = [];

  readonly listener = (event: SessionEvent): void => {
    this.events.push(event);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.match(event)) return true;
      w.resolve(event);
      return false;
    });
  };

  /** The first event, already seen or still to come, that matches; rejects after `timeoutMs`. */
  waitFor(match: (e: SessionEvent) => boolean, timeoutMs = 10_000): Promise<SessionEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('expected session event did not arrive')), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  of(sessionId: number): string[] {
    return this.events.filter((e) => e.sessionId === sessionId).map((e) => e.kind);
  }
}
