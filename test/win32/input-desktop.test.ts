import koffi from 'koffi';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createInputInjector, type InputInjector } from '../../src/helper/input/index.js';
import { followedDesktop } from '../../src/helper/win32-input-desktop/input-desktop-follower.js';
import { kernel32Desktop } from '../../src/native/win32/kernel32-desktop.js';
import { grantedAccess } from '../../src/native/win32/ntdll.js';
import {
  DESKTOP_CREATEWINDOW,
  DESKTOP_ENUMERATE,
  DESKTOP_JOURNALPLAYBACK,
  DESKTOP_JOURNALRECORD,
  DESKTOP_READOBJECTS,
  DESKTOP_SWITCHDESKTOP,
  DESKTOP_WRITEOBJECTS,
  user32,
} from '../../src/native/win32/user32.js';

// Windows checks SendInput against the access of the calling thread's desktop handle (it needs
// DESKTOP_JOURNALPLAYBACK); Wine does not check, so what is asserted here is the handle itself: the
// injecting thread is on the follower's handle, and that handle was granted JOURNALPLAYBACK (read
// back with NtQueryObject, which Wine answers). The rights the old mask asked for lacked it.
const log = { warn: () => undefined, debug: () => undefined };
const screen = { x: 0, y: 0, width: 1280, height: 720 };
const threadDesktop = (): unknown => user32().GetThreadDesktop(kernel32Desktop().GetCurrentThreadId());

describe('the input desktop handle the injecting thread uses', () => {
  let injector: InputInjector;
  beforeAll(() => {
    injector = createInputInjector({ backend: 'win32', log });
  });
  afterAll(() => injector.close());

  test("after an injection the thread is on the follower's handle, which grants DESKTOP_JOURNALPLAYBACK", () => {
    injector.pointerMove(screen, 0.5, 0.5);
    const followed = followedDesktop();
    expect(followed?.name).toBe('Default');
    expect(koffi.address(threadDesktop())).toBe(koffi.address(followed!.handle));
    const access = grantedAccess(threadDesktop());
    expect(access & DESKTOP_JOURNALPLAYBACK).toBe(DESKTOP_JOURNALPLAYBACK);
    expect(followed!.access).toBe(access);
  });

  test('the rights asked for before issue 14 (0x10, JOURNALRECORD, taken for JOURNALPLAYBACK) were not enough', () => {
    const oldMask =
      DESKTOP_READOBJECTS |
      DESKTOP_CREATEWINDOW |
      DESKTOP_ENUMERATE |
      DESKTOP_WRITEOBJECTS |
      DESKTOP_SWITCHDESKTOP |
      DESKTOP_JOURNALRECORD;
    const h: unknown = user32().OpenInputDesktop(0, 0, oldMask);
    expect(h).not.toBeNull();
    try {
      expect(grantedAccess(h) & DESKTOP_JOURNALPLAYBACK).toBe(0);
    } finally {
      user32().CloseDesktop(h);
    }
  });

  test('a thread moved to another handle behind the follower is moved back before the next injection', () => {
    injector.pointerMove(screen, 0.25, 0.25);
    // Same desktop, a handle without JOURNALPLAYBACK: SetThreadDesktop allows it even with windows open.
    const readOnly: unknown = user32().OpenInputDesktop(0, 0, DESKTOP_READOBJECTS);
    expect(user32().SetThreadDesktop(readOnly)).toBeTruthy();
    expect(grantedAccess(threadDesktop()) & DESKTOP_JOURNALPLAYBACK).toBe(0);
    injector.pointerMove(screen, 0.75, 0.75);
    expect(koffi.address(threadDesktop())).toBe(koffi.address(followedDesktop()!.handle));
    expect(grantedAccess(threadDesktop()) & DESKTOP_JOURNALPLAYBACK).toBe(DESKTOP_JOURNALPLAYBACK);
    user32().CloseDesktop(readOnly);
  });
});
