import { describe, expect, it } from 'vitest';
import type { RemoteSession } from '../../src/viewer/api-client.js';
import { defaultSession, deviceLabel, displayLabel, sessionLabel } from '../../src/viewer/labels.js';

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
