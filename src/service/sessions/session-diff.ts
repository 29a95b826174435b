import type { DetectedSession, SessionEvent } from './session-detector.js';

/**
 * The events that turn the session list `before` into `after`. Shared by every detector so that a
 * fake and a real one report the same change the same way.
 *
 * - A session id that appears is a `logon`; one that goes is a `logoff`.
 * - A session whose owner changes (another username or uid on the same display) is a `logoff`
 *   followed by a `logon`: for the broker it is a different session, whose helper must run as the new
 *   user.
 * - Leaving `disconnected` is a `connect`, entering it a `disconnect`; entering `locked` is a `lock`,
 *   leaving it an `unlock`. When both happen at once they are ordered so that the session is never
 *   reported locked while disconnected: `connect` before `lock`, `unlock` before `disconnect`.
 * - Other changes (console flag, xauthority path) carry no event; `list()` shows them.
 *
 * Events come ordered by session id; each carries the session as it is after the change.
 */
export function diffSessions(
  before: readonly DetectedSession[],
  after: readonly DetectedSession[],
): SessionEvent[] {
  const old = new Map(before.map((s) => [s.sessionId, s]));
  const now = new Map(after.map((s) => [s.sessionId, s]));
  const ids = [...new Set([...old.keys(), ...now.keys()])].sort((a, b) => a - b);
  const events: SessionEvent[] = [];
  for (const sessionId of ids) {
    const was = old.get(sessionId);
    const is = now.get(sessionId);
    if (was === undefined && is !== undefined) {
      events.push({ kind: 'logon', sessionId, session: is });
    } else if (was !== undefined && is === undefined) {
      events.push({ kind: 'logoff', sessionId });
    } else if (was !== undefined && is !== undefined) {
      events.push(...changesOf(was, is));
    }
  }
  return events;
}

function changesOf(was: DetectedSession, is: DetectedSession): SessionEvent[] {
  const sessionId = is.sessionId;
  if (was.username !== is.username || was.x11?.uid !== is.x11?.uid) {
    return [
      { kind: 'logoff', sessionId },
      { kind: 'logon', sessionId, session: is },
    ];
  }
  const events: SessionEvent[] = [];
  const wasDisconnected = was.state === 'disconnected';
  const isDisconnected = is.state === 'disconnected';
  const wasLocked = was.state === 'locked';
  const isLocked = is.state === 'locked';
  if (wasDisconnected && !isDisconnected) events.push({ kind: 'connect', sessionId, session: is });
  if (!wasLocked && isLocked) events.push({ kind: 'lock', sessionId, session: is });
  if (wasLocked && !isLocked) events.push({ kind: 'unlock', sessionId, session: is });
  if (!wasDisconnected && isDisconnected) events.push({ kind: 'disconnect', sessionId, session: is });
  return events;
}
