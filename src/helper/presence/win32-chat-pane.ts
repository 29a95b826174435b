/**
 * Windows: the session's chat window, in the indicator's process (win32-indicator-window.ts makes it
 * the first time a line arrives or Chat is pressed). A captioned topmost tool window with the
 * conversation in a read-only multi-line EDIT, an entry line and Send (the default button, so Enter in
 * the entry sends: the pump passes its messages through IsDialogMessageW). Closing it only hides it; a
 * new line shows it again without taking the focus from whatever the person is typing in.
 */
import koffi from 'koffi';
import { gdi32 } from '../../native/win32/gdi32.js';
import { isNullOrInvalid, type Handle } from '../../native/win32/library.js';
import { lastError } from '../../native/win32/last-error.js';
import { SW_HIDE } from '../../native/win32/token.js';
import { SM } from '../../native/win32/user32.js';
import {
  BN_CLICKED,
  BS_DEFPUSHBUTTON,
  EM_LIMITTEXT,
  EM_REPLACESEL,
  EM_SETSEL,
  registerWindowClass,
  ES_AUTOHSCROLL,
  ES_AUTOVSCROLL,
  ES_MULTILINE,
  ES_READONLY,
  SW_SHOW,
  SW_SHOWNOACTIVATE,
  user32Indicator,
  user32Window,
  WM_CLOSE,
  WM_COMMAND,
  WNDPROC,
  WS_BORDER,
  WS_CAPTION,
  WS_CHILD,
  WS_EX_TOOLWINDOW,
  WS_EX_TOPMOST,
  WS_POPUP,
  WS_SYSMENU,
  WS_TABSTOP,
  WS_VISIBLE,
  WS_VSCROLL,
} from '../../native/win32/user32-window.js';
import { IDOK } from '../../native/win32/wtsapi32.js';

const CLASS_NAME = 'PortholeChat';
export const CHAT_PANE_TITLE = 'porthole: chat';
const WIDTH = 440;
const HEIGHT = 320;
/** COLORREF 0x00BBGGRR: a light grey, the usual dialog face. */
const FACE = 0x00f0_f0f0;
/** The entry's limit, as the protocol's (MAX_CHAT_TEXT). */
const MAX_ENTRY = 1000;
/** The log is rewritten with its last KEEP lines once it holds MAX_LINES. */
const MAX_LINES = 200;
const KEEP = 50;

export interface ChatPane {
  /** Adds a line (a viewer's, or the person's own) and shows the window, without activating it. */
  append(line: string): void;
  /** Shows the window and gives the entry the focus (the person pressed Chat). */
  open(): void;
  /** The pump's hook: true when the message was the chat window's dialog navigation (Enter, Tab). */
  dialogMessage(msg: object): boolean;
  close(): void;
}

export function createChatPane(instance: Handle, onReply: (text: string) => void): ChatPane {
  const u = user32Indicator();
  const brush: Handle = gdi32().CreateSolidBrush(FACE);
  const lines: string[] = [];
  const wndProc = koffi.register(
    (hwnd: Handle, msg: number, wParam: bigint | number, lParam: bigint | number): bigint | number => {
      if (msg === WM_COMMAND) {
        const w = Number(BigInt.asUintN(32, BigInt(wParam)));
        if ((w & 0xffff) === IDOK && w >>> 16 === BN_CLICKED) sendEntry();
        return 0;
      }
      if (msg === WM_CLOSE) {
        u.ShowWindow(hwnd, SW_HIDE);
        return 0;
      }
      return u.DefWindowProcW(hwnd, msg, wParam, lParam) as bigint | number;
    },
    koffi.pointer(WNDPROC),
  );
  registerWindowClass(CLASS_NAME, wndProc, instance, brush);
  const screenWidth = u.GetSystemMetrics(SM.CXSCREEN) as number;
  const hwnd: Handle = user32Window().CreateWindowExW(
    WS_EX_TOPMOST | WS_EX_TOOLWINDOW,
    CLASS_NAME,
    CHAT_PANE_TITLE,
    WS_POPUP | WS_CAPTION | WS_SYSMENU,
    Math.max(0, Math.floor((screenWidth - WIDTH) / 2)),
    48,
    WIDTH,
    HEIGHT,
    null,
    null,
    instance,
    null,
  );
  if (isNullOrInvalid(hwnd)) throw lastError('CreateWindowExW(chat)');
  const child = (
    cls: string,
    style: number,
    x: number,
    y: number,
    w: number,
    h: number,
    id: number,
  ): Handle => {
    const c: Handle = user32Window().CreateWindowExW(
      0,
      cls,
      cls === 'BUTTON' ? 'Send' : '',
      WS_CHILD | WS_VISIBLE | style,
      x,
      y,
      w,
      h,
      hwnd,
      id,
      instance,
      null,
    );
    if (isNullOrInvalid(c)) throw lastError(`CreateWindowExW(chat ${cls})`);
    return c;
  };
  const log = child(
    'EDIT',
    WS_BORDER | WS_VSCROLL | ES_MULTILINE | ES_READONLY | ES_AUTOVSCROLL,
    10,
    10,
    414,
    226,
    0,
  );
  const entry = child('EDIT', WS_BORDER | WS_TABSTOP | ES_AUTOHSCROLL, 10, 246, 330, 26, 0);
  child('BUTTON', BS_DEFPUSHBUTTON | WS_TABSTOP, 348, 246, 76, 26, IDOK);
  u.SendMessageW(entry, EM_LIMITTEXT, MAX_ENTRY, 0);

  const append = (line: string): void => {
    lines.push(line);
    if (lines.length >= MAX_LINES) {
      lines.splice(0, lines.length - KEEP);
      u.SetWindowTextW(log, `${lines.join('\r\n')}\r\n`);
      return;
    }
    // Caret to the end (positions past the text are clamped), then insert: the EDIT scrolls to it.
    u.SendMessageW(log, EM_SETSEL, 0x7fff_ffff, 0x7fff_ffff);
    u.SendMessageTextW(log, EM_REPLACESEL, 0, `${line}\r\n`);
  };

  const sendEntry = (): void => {
    const buf = Buffer.alloc((MAX_ENTRY + 1) * 2);
    const n = u.GetWindowTextW(entry, buf, MAX_ENTRY + 1) as number;
    const text = buf.toString('utf16le', 0, n * 2);
    if (text.trim() === '') return;
    u.SetWindowTextW(entry, '');
    append(`You: ${text}`);
    onReply(text);
  };

  let closed = false;
  return {
    append(line) {
      if (closed) return;
      append(line);
      u.ShowWindow(hwnd, SW_SHOWNOACTIVATE);
    },
    open() {
      if (closed) return;
      u.ShowWindow(hwnd, SW_SHOW);
      u.SetForegroundWindow(hwnd);
      u.SetFocus(entry);
    },
    dialogMessage: (msg) => !closed && Boolean(u.IsDialogMessageW(hwnd, msg)),
    close() {
      if (closed) return;
      closed = true;
      user32Window().DestroyWindow(hwnd);
      gdi32().DeleteObject(brush);
      koffi.unregister(wndProc);
    },
  };
}
