import koffi from 'koffi';
import { describe, expect, test } from 'vitest';
import {
  activeConsoleSessionId,
  closeHandle,
  kernel32,
  processSessionId,
} from '../../src/native/win32/kernel32.js';
import {
  enumerateSessions,
  querySessionNumber,
  querySessionString,
  WTS_CONNECTSTATE,
  WTSInfoClass,
} from '../../src/native/win32/wtsapi32.js';
import type { SessionEvent } from '../../src/service/sessions/session-detector.js';
import { createSessionDetector } from '../../src/service/sessions/index.js';
import {
  Win32SessionDetector,
  wtsSource,
  type WtsSource,
} from '../../src/service/sessions/win32-session-detector.js';
import { Win32Error } from '../../src/native/win32/win32-error.js';
import { userInfo } from 'node:os';
import { waitFor } from '../fixtures/wait-for.js';

// What Wine really does (see PLATFORM-NOTES): one session, 1, attached to the console; WTS lists none.
describe('WTS under Wine', () => {
  test('the active console session is the one this process runs in', () => {
    const id = activeConsoleSessionId();
    expect(id).toBe(processSessionId(process.pid));
    expect(id).toBeGreaterThan(0);
  });

  test('WTSEnumerateSessionsW succeeds (with the empty list Wine returns)', () => {
    expect(enumerateSessions()).toEqual([]);
  });

  test("WTSQuerySessionInformationW names the console session's user", () => {
    const user = querySessionString(activeConsoleSessionId(), WTSInfoClass.WTSUserName);
    expect(user.toLowerCase()).toBe(userInfo().username.toLowerCase());
  });

  test('a failing query is a Win32Error naming the call, the session and the class', () => {
    // Wine fails WTSConnectState without setting a last error (it does not implement that class): the
    // thread's last error is reset first, or whatever an earlier test left there shows through (the
    // files share one process; a desktop test left 1400 ERROR_INVALID_WINDOW_HANDLE).
    const id = activeConsoleSessionId();
    koffi.load('kernel32.dll').func('void __stdcall SetLastError(uint32_t dwErrCode)')(0);
    let err: unknown;
    try {
      querySessionNumber(id, WTSInfoClass.WTSConnectState);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Win32Error);
    expect((err as Win32Error).call).toBe(`WTSQuerySessionInformationW(${id}, WTSConnectState)`);
    expect((err as Error).message).toMatch(/^WTSQuerySessionInformationW\(\d+, WTSConnectState\) failed: 0/);
  });

  test("GetLastError after a failed call is that call's error (CloseHandle twice: 6)", () => {
    const event: unknown = kernel32().CreateEventW(null, 1, 0, null);
    closeHandle(event);
    let err: unknown;
    try {
      closeHandle(event); // already closed
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Win32Error);
    expect((err as Win32Error).win32Code).toBe(6);
    expect((err as Error).message).toBe('CloseHandle failed: 6 ERROR_INVALID_HANDLE');
  });
});

describe('Win32SessionDetector', () => {
  test('the platform factory picks it on win32', () => {
    expect(createSessionDetector({})).toBeInstanceOf(Win32SessionDetector);
  });

  test('with an empty WTS list it reports the active console session and its user', async () => {
    const sessions = await new Win32SessionDetector().list();
    expect(sessions).toEqual([
      {
        sessionId: activeConsoleSessionId(),
        username: querySessionString(activeConsoleSessionId(), WTSInfoClass.WTSUserName),
        state: 'active',
        type: 'console',
        console: true,
      },
    ]);
  });

  test('maps enumerated sessions: skips session 0 and the listener, tells RDP from console', async () => {
    const source = scripted({
      console: 1,
      rows: [
        { sessionId: 0, winStationName: 'Services', state: WTS_CONNECTSTATE.Disconnected },
        { sessionId: 1, winStationName: 'Console', state: WTS_CONNECTSTATE.Active },
        { sessionId: 2, winStationName: 'RDP-Tcp#0', state: WTS_CONNECTSTATE.Active },
        { sessionId: 3, winStationName: '', state: WTS_CONNECTSTATE.Disconnected },
        { sessionId: 65536, winStationName: 'RDP-Tcp', state: WTS_CONNECTSTATE.Listen },
      ],
      users: { 1: 'alice', 2: 'bob', 3: 'carol' },
      protocols: { 1: 0, 2: 2, 3: 2 },
    });
    const sessions = await new Win32SessionDetector({ source }).list();
    expect(sessions.map((s) => [s.sessionId, s.username, s.state, s.type, s.console])).toEqual([
      [1, 'alice', 'active', 'console', true],
      [2, 'bob', 'active', 'rdp', false],
      [3, 'carol', 'disconnected', 'rdp', false],
    ]);
  });

  test('a session-change notice is diffed at once; the poll catches a change no notice announced', async () => {
    const state = {
      console: 1,
      rows: [{ sessionId: 1, winStationName: 'Console', state: WTS_CONNECTSTATE.Active }],
      users: { 1: 'alice' } as Record<number, string>,
      protocols: {},
    };
    const detector = new Win32SessionDetector({ source: scripted(state), pollMs: 100 });
    const events: SessionEvent[] = [];
    await detector.start((e) => events.push(e));
    try {
      detector.notify('lock', 1);
      expect(events.map((e) => [e.kind, e.sessionId, e.session?.state])).toEqual([['lock', 1, 'locked']]);
      detector.notify('unlock', 1);
      expect(events.at(-1)?.kind).toBe('unlock');
      // An RDP logon without a notice: found by the timer.
      state.rows.push({ sessionId: 2, winStationName: 'RDP-Tcp#1', state: WTS_CONNECTSTATE.Active });
      state.users[2] = 'bob';
      await waitFor(() => events.some((e) => e.kind === 'logon' && e.sessionId === 2), {
        what: 'the logon event',
        timeoutMs: 5000,
      });
    } finally {
      await detector.stop();
    }
  });

  test('the real source answers for the console session (user from WTS, state defaulted)', () => {
    const id = wtsSource.consoleSessionId();
    expect(wtsSource.userName(id)).not.toBe('');
  });
});

function scripted(s: {
  console: number;
  rows: { sessionId: number; winStationName: string; state: number }[];
  users: Record<number, string>;
  protocols: Record<number, number>;
}): WtsSource {
  return {
    enumerate: () => s.rows.map((r) => ({ ...r })),
    consoleSessionId: () => s.console,
    userName: (id) => s.users[id] ?? '',
    domainName: () => 'PC',
    connectState: (id) => {
      const row = s.rows.find((r) => r.sessionId === id);
      if (!row) throw new Error('no such session');
      return row.state;
    },
    protocol: (id) => s.protocols[id] ?? 0,
  };
}
