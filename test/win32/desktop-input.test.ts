import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createClipboard, createInputInjector, type InputInjector } from '../../src/helper/input/index.js';
import { toVirtualDeskUnits } from '../../src/helper/input/win32-input-injector.js';
import { scancodeForCode } from '../../src/helper/input/win32-scancodes.js';
import koffi from 'koffi';
import { kernel32Desktop } from '../../src/native/win32/kernel32-desktop.js';
import { isNullOrInvalid, type Handle } from '../../src/native/win32/library.js';
import { INPUT_DESKTOP_ACCESS, user32 } from '../../src/native/win32/user32.js';
import { user32Window } from '../../src/native/win32/user32-window.js';
import { editWindow, pumpMessages, solidWindow } from './desktop-windows.js';

const lines: { level: string; obj: object; msg?: string }[] = [];
const log = {
  warn: (obj: object, msg?: string) => void lines.push({ level: 'warn', obj, msg }),
  debug: (obj: object, msg?: string) => void lines.push({ level: 'debug', obj, msg }),
};

function cursorPos(): { x: number; y: number } {
  const p = { x: -1, y: -1 };
  expect(user32().GetCursorPos(p)).toBeTruthy();
  return p;
}

describe('SendInput injector under Wine (Xvfb 1280×720)', () => {
  let injector: InputInjector;
  beforeAll(() => {
    injector = createInputInjector({ backend: 'win32', log });
  });
  afterAll(() => injector.close());

  test('maps desktop pixels onto 0..65535 over the virtual screen', () => {
    const screen = { x: 0, y: 0, width: 1280, height: 720 };
    expect(toVirtualDeskUnits(0, 0, screen)).toEqual({ dx: 0, dy: 0 });
    expect(toVirtualDeskUnits(1279, 719, screen)).toEqual({ dx: 65535, dy: 65535 });
    // A monitor left of the primary: the virtual screen starts at x = -1920.
    expect(toVirtualDeskUnits(0, 0, { x: -1920, y: 0, width: 3200, height: 1080 }).dx).toBe(
      Math.round((1920 * 65535) / 3199),
    );
  });

  test('an absolute move lands the cursor on the pixel asked for (GetCursorPos)', async () => {
    const rect = { x: 0, y: 0, width: 1280, height: 720 };
    injector.pointerMove(rect, 0.5, 0.25);
    await pumpMessages(100);
    const p = cursorPos();
    expect(Math.abs(p.x - 640)).toBeLessThanOrEqual(1);
    expect(Math.abs(p.y - 180)).toBeLessThanOrEqual(1);
    injector.pointerMove(rect, 0.1, 0.9);
    await pumpMessages(100);
    const q = cursorPos();
    expect(Math.abs(q.x - 128)).toBeLessThanOrEqual(1);
    expect(Math.abs(q.y - 648)).toBeLessThanOrEqual(1);
  });

  test('keys by scancode and Unicode text reach a focused EDIT control', async () => {
    const edit = editWindow(300, 200, 400, 40);
    try {
      await pumpMessages(200);
      // Click into it first so it has the focus under Wine's X driver.
      injector.pointerMove({ x: 0, y: 0, width: 1280, height: 720 }, 500 / 1280, 220 / 720);
      injector.button('left', true);
      injector.button('left', false);
      await pumpMessages(200);
      for (const code of ['KeyH', 'KeyI']) {
        injector.key(code, true);
        injector.key(code, false);
      }
      injector.key('ShiftLeft', true);
      injector.key('Digit1', true);
      injector.key('Digit1', false);
      injector.key('ShiftLeft', false);
      injector.text(' é€😀');
      await pumpMessages(300);
      expect(edit.text()).toBe('hi! é€😀');
    } finally {
      edit.close();
    }
  });

  test('scancodes: plain and extended keys', () => {
    expect(scancodeForCode('KeyA')).toEqual({ scan: 0x1e, extended: false });
    expect(scancodeForCode('ArrowLeft')).toEqual({ scan: 0x4b, extended: true });
    expect(scancodeForCode('NumpadEnter')).toEqual({ scan: 0x1c, extended: true });
    expect(scancodeForCode('F12')).toEqual({ scan: 0x58, extended: false });
    expect(scancodeForCode('NoSuchKey')).toBeUndefined();
  });

  test('releaseAll lets go of held keys and buttons without errors', () => {
    lines.length = 0;
    injector.key('ControlLeft', true);
    injector.button('right', true);
    injector.releaseAll();
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
  });
});

describe('Win32 clipboard under Wine', () => {
  test('write then read round-trips Unicode text, and a copy made elsewhere is reported', async () => {
    const a = createClipboard({ backend: 'win32', log });
    const b = createClipboard({ backend: 'win32', log });
    try {
      const seen: string[] = [];
      b.onChange((t) => seen.push(t));
      const own: string[] = [];
      a.onChange((t) => own.push(t));
      await a.write('porthole ✓ clipboard');
      expect(await b.read()).toBe('porthole ✓ clipboard');
      await new Promise((r) => setTimeout(r, 700));
      // b saw a's copy as a change in the session; a does not report its own write.
      expect(seen).toEqual(['porthole ✓ clipboard']);
      expect(own).toEqual([]);
    } finally {
      a.close();
      b.close();
    }
  });

  test('a write owns the clipboard through a message-only window that is gone afterwards: the text stays, and the thread can still switch desktops', async () => {
    const lib = koffi.load('user32.dll');
    const CreateDesktopW = lib.func(
      'HDESK __stdcall CreateDesktopW(LPCWSTR lpszDesktop, LPCWSTR lpszDevice, void *pDevmode, DWORD dwFlags, DWORD dwDesiredAccess, void *lpsa)',
    );
    const u = user32();
    const home: Handle = u.GetThreadDesktop(kernel32Desktop().GetCurrentThreadId());
    const other: Handle = CreateDesktopW(
      `porthole-clipboard-${process.pid}`,
      null,
      null,
      0,
      INPUT_DESKTOP_ACCESS,
      null,
    );
    expect(isNullOrInvalid(other)).toBe(false);
    const clip = createClipboard({ backend: 'win32', log });
    try {
      // The rule the owner window must not break: a thread that owns a window cannot switch desktops
      // (SetThreadDesktop remarks). Wine enforces it too, which makes the check below meaningful.
      const win = solidWindow(10, 10, 50, 50, 0x102030);
      const refused = u.SetThreadDesktop(other) as number;
      win.close();
      expect(refused).toBe(0);

      await clip.write('owned ✓ text\nline 2');
      expect(await clip.read()).toBe('owned ✓ text\r\nline 2');
      // The owner was destroyed right after CloseClipboard; the data it put there stayed.
      expect(isNullOrInvalid(user32Window().GetClipboardOwner())).toBe(true);
      expect(u.SetThreadDesktop(other)).toBeTruthy();
      expect(u.SetThreadDesktop(home)).toBeTruthy();
    } finally {
      clip.close();
      u.SetThreadDesktop(home);
      u.CloseDesktop(other);
    }
  });
});
