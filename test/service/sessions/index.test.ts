import { describe, expect, it } from 'vitest';
import {
  FakeSessionDetector,
  X11SessionDetector,
  createSessionDetector,
} from '../../../src/service/sessions/index.js';
import { Win32SessionDetector } from '../../../src/service/sessions/win32-session-detector.js';
import { session } from './sessions.js';

describe('createSessionDetector', () => {
  it('picks the X11 detector on Linux', () => {
    expect(createSessionDetector({}, 'linux')).toBeInstanceOf(X11SessionDetector);
    expect(createSessionDetector(undefined, 'linux')).toBeInstanceOf(X11SessionDetector);
  });

  it('gives the fake detector, with its sessions, when asked for it on any platform', async () => {
    const fake = createSessionDetector({ kind: 'fake', sessions: [session(2)] }, 'win32');
    expect(fake).toBeInstanceOf(FakeSessionDetector);
    expect((await fake.list()).map((s) => s.sessionId)).toEqual([2]);
  });

  it('picks the WTS detector on Windows (no DLL is loaded until it is used), and refuses other platforms', () => {
    expect(createSessionDetector({}, 'win32')).toBeInstanceOf(Win32SessionDetector);
    expect(() => createSessionDetector({}, 'darwin')).toThrow(/darwin/);
  });

  it('passes the X11 options through, so a bad one is reported', () => {
    expect(() =>
      createSessionDetector({ kind: 'x11', configured: [{ display: 'remote:0' }] }, 'linux'),
    ).toThrow(/configured\[0\]/);
  });
});
