import type { DetectedSession } from './sessions/session-detector.js';

const LIVE = new Set(['active', 'connected', 'locked', 'idle']);

/**
 * The session a desktop request without `targetSessionId` goes to: the first username of the
 * affinity list that has a live session; otherwise the console session; otherwise the first active
 * session; otherwise the lowest-numbered session. The services session (Windows' session 0) never.
 */
export function pickDefaultTarget(sessions: DetectedSession[], affinity: string[]): number | undefined {
  const usable = sessions.filter((s) => s.type !== 'services').sort((a, b) => a.sessionId - b.sessionId);
  for (const user of affinity) {
    const hit = usable.find((s) => s.username === user && LIVE.has(s.state));
    if (hit) return hit.sessionId;
  }
  return (usable.find((s) => s.console) ?? usable.find((s) => s.state === 'active') ?? usable[0])?.sessionId;
}
