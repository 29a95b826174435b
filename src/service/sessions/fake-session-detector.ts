import type { DetectedSession, SessionDetector, SessionEvent } from './session-detector.js';
import { diffSessions } from './session-diff.js';

/**
 * An in-memory SessionDetector for tests of the code that consumes sessions (broker, API link). Each
 * change is diffed with the same function the real detectors use, and the events are delivered to the
 * listener synchronously, before the mutating call returns.
 */
export class FakeSessionDetector implements SessionDetector {
  #sessions = new Map<number, DetectedSession>();
  #listener: ((event: SessionEvent) => void) | null = null;

  constructor(initial: readonly DetectedSession[] = []) {
    this.#sessions = byId(initial);
  }

  list(): Promise<DetectedSession[]> {
    return Promise.resolve(this.#snapshot());
  }

  start(listener: (event: SessionEvent) => void): Promise<void> {
    if (this.#listener) return Promise.reject(new Error('session detector already started'));
    this.#listener = listener;
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#listener = null;
    return Promise.resolve();
  }

  /** Replaces every session at once. */
  set(sessions: readonly DetectedSession[]): void {
    this.#change(() => {
      this.#sessions = byId(sessions);
    });
  }

  /** Adds a session; its id must be new. */
  add(session: DetectedSession): void {
    if (this.#sessions.has(session.sessionId)) throw new Error(`session ${session.sessionId} already exists`);
    this.#change(() => this.#sessions.set(session.sessionId, structuredClone(session)));
  }

  /** Removes a session; false when there was none with that id. */
  remove(sessionId: number): boolean {
    if (!this.#sessions.has(sessionId)) return false;
    this.#change(() => this.#sessions.delete(sessionId));
    return true;
  }

  /** Changes fields of a session (not its id). */
  update(sessionId: number, patch: Partial<Omit<DetectedSession, 'sessionId'>>): void {
    const current = this.#sessions.get(sessionId);
    if (current === undefined) throw new Error(`no session ${sessionId}`);
    this.#change(() => this.#sessions.set(sessionId, { ...current, ...structuredClone(patch), sessionId }));
  }

  #change(mutate: () => void): void {
    const before = this.#snapshot();
    mutate();
    const listener = this.#listener;
    if (listener === null) return;
    for (const event of diffSessions(before, this.#snapshot())) listener(event);
  }

  #snapshot(): DetectedSession[] {
    return [...this.#sessions.values()]
      .sort((a, b) => a.sessionId - b.sessionId)
      .map((s) => structuredClone(s));
  }
}

function byId(sessions: readonly DetectedSession[]): Map<number, DetectedSession> {
  const map = new Map<number, DetectedSession>();
  for (const s of sessions) {
    if (map.has(s.sessionId)) throw new Error(`session ${s.sessionId} is listed twice`);
    map.set(s.sessionId, structuredClone(s));
  }
  return map;
}
