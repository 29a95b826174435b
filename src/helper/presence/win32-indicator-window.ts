/**
 * Windows: the being-viewed indicator's own process (`porthole indicator-window`, started by the helper
 * through win32-indicator.ts). A layered, topmost tool window at the top centre of the primary monitor
 * with the text and two buttons, Chat and Disconnect, excluded from capture.
 *
 * Why a process of its own: a window belongs to the thread that made it, and the helper's JS thread
 * follows the input desktop with SetThreadDesktop, which fails for a thread that owns a window
 * (input-desktop-follower.ts). The window's message loop also runs here without ever blocking the
 * helper's event loop: PeekMessageW on a 30 ms timer, so this process's own event loop still reads
 * stdin. The window procedure is a JS callback (koffi.register), called on this thread from
 * DispatchMessageW.
 *
 * - `WS_EX_TOPMOST | WS_EX_TOOLWINDOW | WS_EX_LAYERED | WS_EX_NOACTIVATE`: above normal windows, not in
 *   the taskbar or Alt+Tab, and a click does not take the focus from the user's window. Topmost is
 *   asserted again every 2 s (another topmost window may have been raised over it).
 * - `SetWindowDisplayAffinity(WDA_EXCLUDEFROMCAPTURE)` (Windows 10 2004+): the window is on the monitor
 *   and absent from every capture (Desktop Duplication and GDI), so the viewer sees what is behind it.
 *   Before 2004 that value fails and WDA_MONITOR is used: the capture shows a black rectangle instead.
 *   Which one held is the first line on stdout (`ready {affinity}`).
 *
 * The chat window (win32-chat-pane.ts) lives in this process too, made at its first use.
 *
 * stdin: JSON lines `{"text": "…"}` (the bar), `{"chatLine": "NAME: …"}` (a viewer's line: shown in the
 * chat window), `{"openChat": true}` (the person pressed Chat); its end closes everything and exits.
 * stdout: JSON lines `{"event": "ready", "affinity": "exclude" | "monitor" | "none"}`,
 * `{"event": "chat"}`, `{"event": "disconnect"}`, `{"event": "reply", "text": "…"}` (the person's answer).
 */
import { createInterface } from 'node:readline';
import koffi from 'koffi';
import { gdi32, TRANSPARENT } from '../../native/win32/gdi32.js';
import { kernel32Desktop } from '../../native/win32/kernel32-desktop.js';
import { isNullOrInvalid, type Handle } from '../../native/win32/library.js';
import {
  BN_CLICKED,
  BS_PUSHBUTTON,
  registerWindowClass,
  HWND_TOPMOST,
  LWA_ALPHA,
  PM_REMOVE,
  SS_CENTERIMAGE,
  SS_LEFT,
  SWP_NOACTIVATE,
  SWP_NOMOVE,
  SWP_NOSIZE,
  SW_SHOWNOACTIVATE,
  user32Indicator,
  user32Window,
  WDA_EXCLUDEFROMCAPTURE,
  WDA_MONITOR,
  WM_CLOSE,
  WM_COMMAND,
  WM_CTLCOLORSTATIC,
  WNDPROC,
  WS_BORDER,
  WS_CHILD,
  WS_EX_LAYERED,
  WS_EX_NOACTIVATE,
  WS_EX_TOOLWINDOW,
  WS_EX_TOPMOST,
  WS_POPUP,
  WS_VISIBLE,
} from '../../native/win32/user32-window.js';
import { lastError } from '../../native/win32/last-error.js';
import { SM } from '../../native/win32/user32.js';
import { createChatPane, type ChatPane } from './win32-chat-pane.js';

const CLASS_NAME = 'PortholeViewingIndicator';
export const INDICATOR_WINDOW_TITLE_PREFIX = 'porthole: ';
const ID_CHAT = 101;
const ID_DISCONNECT = 102;
/** The person's answer is at most this long (the protocol's MAX_CHAT_TEXT; the entry is limited too). */
const MAX_REPLY = 1000;
const WIDTH = 600;
const HEIGHT = 40;
const PUMP_MS = 30;
const TOPMOST_MS = 2000;
/** COLORREF is 0x00BBGGRR: a dark red, as the X11 indicator, with white text. */
const BACKGROUND = 0x001a_1a8b;
const TEXT = 0x00ff_ffff;

export type Affinity = 'exclude' | 'monitor' | 'none';

export interface IndicatorWindowProcess {
  /** Resolves when stdin ends (the helper closed it) and the window is gone. */
  done: Promise<void>;
}

/** Runs the window until `input` ends; `write` gets the stdout lines. */
export function runIndicatorWindow(
  input: NodeJS.ReadableStream,
  write: (line: string) => void,
): IndicatorWindowProcess {
  const u = user32Indicator();
  const k = kernel32Desktop();
  const instance: Handle = k.GetModuleHandleW(null);
  const send = (msg: object): void => write(`${JSON.stringify(msg)}\n`);

  const brush: Handle = gdi32().CreateSolidBrush(BACKGROUND);

  const wndProc = koffi.register(
    (hwnd: Handle, msg: number, wParam: bigint | number, lParam: bigint | number): bigint | number => {
      if (msg === WM_COMMAND) {
        const w = Number(BigInt.asUintN(32, BigInt(wParam)));
        const id = w & 0xffff;
        if (w >>> 16 === BN_CLICKED && id === ID_DISCONNECT) send({ event: 'disconnect' });
        else if (w >>> 16 === BN_CLICKED && id === ID_CHAT) send({ event: 'chat' });
        return 0;
      }
      // The label paints itself: white text on the bar's own brush rather than the dialog grey.
      if (msg === WM_CTLCOLORSTATIC) {
        const hdc = BigInt(wParam);
        gdi32().SetTextColor(hdc, TEXT);
        gdi32().SetBkMode(hdc, TRANSPARENT);
        return koffi.address(brush);
      }
      // Alt+F4 and the like do not close it: only the helper (its last viewer gone) or Disconnect do.
      if (msg === WM_CLOSE) return 0;
      return u.DefWindowProcW(hwnd, msg, wParam, lParam) as bigint | number;
    },
    koffi.pointer(WNDPROC),
  );
  registerWindowClass(CLASS_NAME, wndProc, instance, brush);
  const screenWidth = u.GetSystemMetrics(SM.CXSCREEN) as number;
  const hwnd: Handle = user32Window().CreateWindowExW(
    WS_EX_TOPMOST | WS_EX_TOOLWINDOW | WS_EX_LAYERED | WS_EX_NOACTIVATE,
    CLASS_NAME,
    INDICATOR_WINDOW_TITLE_PREFIX,
    WS_POPUP | WS_BORDER,
    Math.max(0, Math.floor((screenWidth - WIDTH) / 2)),
    0,
    WIDTH,
    HEIGHT,
    null,
    null,
    instance,
    null,
  );
  if (isNullOrInvalid(hwnd)) throw lastError('CreateWindowExW(indicator)');
  const child = (cls: string, text: string, style: number, x: number, w: number, id: number): Handle => {
    const h: Handle = user32Window().CreateWindowExW(
      0,
      cls,
      text,
      WS_CHILD | WS_VISIBLE | style,
      x,
      6,
      w,
      HEIGHT - 14,
      hwnd,
      id,
      instance,
      null,
    );
    if (isNullOrInvalid(h)) throw lastError(`CreateWindowExW(${cls})`);
    return h;
  };
  const label = child('STATIC', '', SS_LEFT | SS_CENTERIMAGE, 10, WIDTH - 220, 0);
  child('BUTTON', 'Chat', BS_PUSHBUTTON, WIDTH - 200, 70, ID_CHAT);
  child('BUTTON', 'Disconnect', BS_PUSHBUTTON, WIDTH - 120, 110, ID_DISCONNECT);
  // A layered window is invisible until its attributes are set.
  if (!u.SetLayeredWindowAttributes(hwnd, 0, 235, LWA_ALPHA)) throw lastError('SetLayeredWindowAttributes');
  let affinity: Affinity = 'none';
  if (u.SetWindowDisplayAffinity(hwnd, WDA_EXCLUDEFROMCAPTURE)) affinity = 'exclude';
  else if (u.SetWindowDisplayAffinity(hwnd, WDA_MONITOR)) affinity = 'monitor';
  u.ShowWindow(hwnd, SW_SHOWNOACTIVATE);
  send({ event: 'ready', affinity });

  let chat: ChatPane | undefined;
  const chatPane = (): ChatPane =>
    (chat ??= createChatPane(instance, (text) => send({ event: 'reply', text: text.slice(0, MAX_REPLY) })));

  const msg = {};
  const pump = setInterval(() => {
    while (u.PeekMessageW(msg, null, 0, 0, PM_REMOVE)) {
      if (chat?.dialogMessage(msg)) continue;
      u.TranslateMessage(msg);
      u.DispatchMessageW(msg);
    }
  }, PUMP_MS);
  const topmost = setInterval(() => {
    u.SetWindowPos(hwnd, HWND_TOPMOST, 0, 0, 0, 0, SWP_NOMOVE | SWP_NOSIZE | SWP_NOACTIVATE);
  }, TOPMOST_MS);

  const lines = createInterface({ input, crlfDelay: Infinity });
  lines.on('line', (line) => {
    let parsed: { text?: unknown; chatLine?: unknown; openChat?: unknown };
    try {
      parsed = JSON.parse(line) as typeof parsed;
    } catch {
      return;
    }
    if (typeof parsed.chatLine === 'string') chatPane().append(parsed.chatLine.slice(0, 1200));
    if (parsed.openChat === true) chatPane().open();
    const text = parsed.text;
    if (typeof text !== 'string') return;
    const shown = text.slice(0, 500);
    u.SetWindowTextW(label, shown);
    u.SetWindowTextW(hwnd, `${INDICATOR_WINDOW_TITLE_PREFIX}${shown}`);
  });
  const done = new Promise<void>((resolve) => {
    lines.once('close', () => {
      clearInterval(pump);
      clearInterval(topmost);
      chat?.close();
      user32Window().DestroyWindow(hwnd);
      gdi32().DeleteObject(brush);
      koffi.unregister(wndProc);
      resolve();
    });
  });
  return { done };
}
