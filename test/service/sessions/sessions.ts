import type { DetectedSession } from '../../../src/service/sessions/session-detector.js';

/** A session on display `:id` owned by root, with the fields a test does not care about filled in. */
export function session(sessionId: number, over: Partial<DetectedSession> = {}): DetectedSession {
  return {
    sessionId,
    username: 'alice',
    state: 'active',
    type: 'x11',
    console: false,
    x11: { display: `:${sessionId}`, uid: 1000, gid: 1000 },
    ...over,
  };
}
