import { describe, expect, it } from 'vitest';
import { pickDefaultTarget } from '../../src/service/default-target.js';
import type { DetectedSession } from '../../src/service/sessions/session-detector.js';

const s = (sessionId: number, username: string, extra: Partial<DetectedSession> = {}): DetectedSession => ({
  sessionId,
  username,
  state: 'active',
  type: 'rdp',
  console: false,
  ...extra,
});

describe('default target of start_desktop', () => {
  const services = s(0, '', { type: 'services' });
  const consoleSession = s(1, 'jsmith', { type: 'console', console: true });
  const rdp = s(2, 'admin', { state: 'disconnected' });
  const rdp2 = s(3, 'ops');

  it('prefers the first affinity user with a live session', () => {
    expect(pickDefaultTarget([services, consoleSession, rdp2], ['nobody', 'ops', 'jsmith'])).toBe(3);
  });

  it('skips an affinity user whose session is disconnected', () => {
    expect(pickDefaultTarget([consoleSession, rdp], ['admin'])).toBe(1);
  });

  it('falls back to the console session, as Breeze does', () => {
    expect(pickDefaultTarget([services, rdp2, consoleSession], [])).toBe(1);
  });

  it('then to the first active session, never the services session', () => {
    expect(pickDefaultTarget([services, rdp, rdp2], [])).toBe(3);
    expect(pickDefaultTarget([services], [])).toBeUndefined();
  });
});
