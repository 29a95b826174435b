import { describe, expect, it } from 'vitest';
import type { RemoteSession } from '../../src/viewer/api-client.js';
import {
  defaultSession,
  deviceLabel,
  displayLabel,
  sessionLabel,
  sessionLimitNotice,
} from '../../src/viewer/labels.js';

const session = (over: Partial<RemoteSession>): RemoteSession => ({
  sessionId: 1,
  username: 'alice',
  state: 'active',
  type: 'console',
  helperConnected: true,
  helperState: 'ready',
  ...over,
});

describe('labels', () => {
  it('shows user, state, console or rdp, and whether the helper is up', () => {
    expect(sessionLabel(session({}))).toBe('#1 alice · active · console · helper up');
    expect(
      sessionLabel(
        session({
          sessionId: 3,
          username: 'bob',
          state: 'disconnected',
          type: 'rdp',
          helperConnected: false,
          helperState: 'failed',
        }),
      ),
    ).toBe('#3 bob · disconnected · rdp · helper failed');
    expect(sessionLabel(session({ username: '' }))).toContain('no user (login screen)');
  });

  it('marks offline devices and the primary display', () => {
    expect(deviceLabel({ id: 'a', name: 'desk', online: false })).toBe('desk (offline)');
    expect(
      displayLabel({ index: 0, name: 'DP-1', x: 0, y: 0, width: 2560, height: 1440, primary: true }),
    ).toBe('1: DP-1 2560×1440 (primary)');
  });

  it("picks the console's active session first, then any active one", () => {
    const rdp = session({ sessionId: 2, type: 'rdp' });
    const consoleIdle = session({ sessionId: 1, state: 'disconnected' });
    const consoleActive = session({ sessionId: 5 });
    expect(defaultSession([rdp, consoleActive])?.sessionId).toBe(5);
    expect(defaultSession([consoleIdle, rdp])?.sessionId).toBe(2);
    expect(defaultSession([])).toBeUndefined();
  });
});

describe('session limit notices', () => {
  it('says how long is left, in seconds below two minutes and in minutes above', () => {
    expect(sessionLimitNotice('max_length', 60_000)).toBe(
      'This session reaches its maximum length in 60 seconds',
    );
    expect(sessionLimitNotice('max_length', 300_000)).toBe(
      'This session reaches its maximum length in 5 minutes',
    );
    expect(sessionLimitNotice('idle', 1500)).toBe('This session ends in 2 seconds without input');
  });

  it('says why the session ended at the cut', () => {
    expect(sessionLimitNotice('idle', 0)).toBe('Session ended by the remote machine: no input for too long');
    expect(sessionLimitNotice('max_length', 0)).toBe(
      'Session ended by the remote machine: the maximum session length was reached',
    );
  });
});
