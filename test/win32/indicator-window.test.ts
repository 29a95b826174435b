/**
 * The being-viewed indicator's window (src/helper/presence/win32-indicator-window.ts) under Wine on
 * Xvfb: made with the extended styles asked for, named from stdin, its Disconnect button clicked
 * through SendInput reaches stdout, and the end of stdin destroys it. What Wine cannot show (the
 * capture exclusion, topmost over real applications, the secure desktop) is in design/WINDOWS.md and
 * scripts/windows-vm-check.ps1.
 */
import { PassThrough } from 'node:stream';
import koffi from 'koffi';
import { describe, expect, test } from 'vitest';
import { createInputInjector } from '../../src/helper/input/index.js';
import { runIndicatorWindow } from '../../src/helper/presence/win32-indicator-window.js';
import type { Handle } from '../../src/native/win32/library.js';
import {
  WS_EX_LAYERED,
  WS_EX_NOACTIVATE,
  WS_EX_TOOLWINDOW,
  WS_EX_TOPMOST,
} from '../../src/native/win32/user32-window.js';
import '../../src/native/win32/user32.js';

const lib = koffi.load('user32.dll');
const u = {
  FindWindowW: lib.func('HWND __stdcall FindWindowW(LPCWSTR lpClassName, LPCWSTR lpWindowName)'),
  GetWindowTextW: lib.func('int __stdcall GetWindowTextW(HWND hWnd, _Out_ uint8_t *lpString, int nMaxCount)'),
  GetWindowLongPtrW: lib.func('intptr_t __stdcall GetWindowLongPtrW(HWND hWnd, int nIndex)'),
  IsWindowVisible: lib.func('BOOL __stdcall IsWindowVisible(HWND hWnd)'),
  FindWindowExW: lib.func(
    'HWND __stdcall FindWindowExW(HWND hWndParent, HWND hWndChildAfter, LPCWSTR lpszClass, LPCWSTR lpszWindow)',
  ),
  GetWindowRect: lib.func('BOOL __stdcall GetWindowRect(HWND hWnd, _Out_ uint8_t *lpRect)'),
};
/** GetWindowLongPtrW's index of the extended styles (winuser.h); test-only, so not in src. */
const GWL_EXSTYLE_INDEX = -20;

const windowText = (hwnd: Handle): string => {
  const buf = Buffer.alloc(1024);
  const n = u.GetWindowTextW(hwnd, buf, 512) as number;
  return buf.toString('utf16le', 0, n * 2);
};
const indicatorHwnd = (): Handle => u.FindWindowW('PortholeViewingIndicator', null);
const chatHwnd = (): Handle => u.FindWindowW('PortholeChat', null);
/** A window's rectangle on the screen: left, top, right, bottom. */
const rectOf = (hwnd: Handle): [number, number, number, number] => {
  const r = Buffer.alloc(16);
  expect(u.GetWindowRect(hwnd, r)).toBeTruthy();
  return [r.readInt32LE(0), r.readInt32LE(4), r.readInt32LE(8), r.readInt32LE(12)];
};
const present = (h: Handle): boolean => h != null && koffi.address(h) !== 0n;

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the indicator window under Wine', () => {
  test('shows the text, reports Disconnect clicked, and is gone when stdin ends', async () => {
    const input = new PassThrough();
    const out: Record<string, unknown>[] = [];
    const run = runIndicatorWindow(input, (line) => out.push(JSON.parse(line) as Record<string, unknown>));
    try {
      expect(out[0]).toMatchObject({ event: 'ready' });
      // Wine's answer to SetWindowDisplayAffinity is recorded, not asserted: only Windows excludes.
      console.log(`SetWindowDisplayAffinity under Wine: ${String(out[0]!.affinity)}`);
      input.write(`${JSON.stringify({ text: 'alice is viewing this screen' })}\n`);
      await until(
        () => present(indicatorHwnd()) && windowText(indicatorHwnd()).includes('alice'),
        'the title',
      );
      const hwnd = indicatorHwnd();
      expect(windowText(hwnd)).toBe('porthole: alice is viewing this screen');
      expect(u.IsWindowVisible(hwnd)).toBeTruthy();
      const ex = Number(u.GetWindowLongPtrW(hwnd, GWL_EXSTYLE_INDEX));
      for (const style of [WS_EX_TOPMOST, WS_EX_TOOLWINDOW, WS_EX_LAYERED, WS_EX_NOACTIVATE]) {
        expect((ex & style) >>> 0).toBe(style >>> 0);
      }
      // Disconnect: the last 110 px of the 600 px wide bar, centred at the top of 1280×720.
      const injector = createInputInjector({ backend: 'win32', log: { warn: () => {}, debug: () => {} } });
      try {
        const screen = { x: 0, y: 0, width: 1280, height: 720 };
        for (let attempt = 0; attempt < 5 && !out.some((e) => e.event === 'disconnect'); attempt++) {
          injector.pointerMove(screen, (340 + 600 - 65) / 1280, 19 / 720);
          injector.button('left', true);
          injector.button('left', false);
          await until(() => out.some((e) => e.event === 'disconnect'), 'the click', 1000).catch(
            () => undefined,
          );
        }
      } finally {
        injector.close();
      }
      expect(out.filter((e) => e.event === 'disconnect')).toHaveLength(1);
    } finally {
      input.end();
      await run.done;
    }
    expect(present(indicatorHwnd())).toBe(false);
  }, 30_000);

  test('the chat window shows a viewer’s line and sends what the person types, Enter included', async () => {
    const input = new PassThrough();
    const out: Record<string, unknown>[] = [];
    const run = runIndicatorWindow(input, (line) => out.push(JSON.parse(line) as Record<string, unknown>));
    const injector = createInputInjector({ backend: 'win32', log: { warn: () => {}, debug: () => {} } });
    const screen = { x: 0, y: 0, width: 1280, height: 720 };
    try {
      expect(present(chatHwnd())).toBe(false); // made at its first use only
      input.write(`${JSON.stringify({ chatLine: 'alice: can you see my pointer?' })}\n`);
      await until(() => present(chatHwnd()) && Boolean(u.IsWindowVisible(chatHwnd())), 'the chat window');
      const chat = chatHwnd();
      expect(windowText(chat)).toBe('porthole: chat');
      const log = u.FindWindowExW(chat, null, 'EDIT', null);
      const entry = u.FindWindowExW(chat, log, 'EDIT', null);
      expect(present(log) && present(entry)).toBe(true);
      expect(windowText(log)).toBe('alice: can you see my pointer?\r\n');
      input.write(`${JSON.stringify({ openChat: true })}\n`);
      const [l, t, r, b] = rectOf(entry);
      for (let attempt = 0; attempt < 5 && !out.some((e) => e.event === 'reply'); attempt++) {
        injector.pointerMove(screen, (l + r) / 2 / 1280, (t + b) / 2 / 720);
        injector.button('left', true);
        injector.button('left', false);
        await new Promise((res) => setTimeout(res, 200));
        injector.text('yes');
        injector.key('Enter', true);
        injector.key('Enter', false);
        await until(() => out.some((e) => e.event === 'reply'), 'the answer', 1500).catch(() => undefined);
      }
      const reply = out.find((e) => e.event === 'reply');
      expect(reply?.text).toMatch(/^(yes)+$/);
      expect(windowText(log)).toMatch(/^alice: can you see my pointer\?\r\nYou: (yes)+\r\n$/);
      expect(windowText(entry)).toBe('');
    } finally {
      injector.close();
      input.end();
      await run.done;
    }
    expect(present(chatHwnd())).toBe(false);
  }, 30_000);
});
