/**
 * The platform's indicator and chat window: X11 (an override-redirect Xlib window, and zenity for
 * chat), Windows (a topmost window excluded from capture and the chat window, both in one child
 * process: win32-indicator.ts), none elsewhere. Nothing imports this back; the helper's wiring calls it once.
 */
import type { Logger } from '../../log/logger.js';
import type { ChatWindowEvents, OpenChatWindow } from './chat-window.js';
import type { OpenIndicator } from './indicator.js';
import type { Win32IndicatorWindow } from './win32-indicator.js';
import { openZenityChatWindow } from './zenity-chat-window.js';

// The X11 indicator loads libX11 when its module is evaluated: import it on Linux only, so the helper
// starts on Windows (as src/helper/input/index.ts does).
const x11 = process.platform === 'linux' ? await import('./x11-indicator.js') : undefined;
const win32 = process.platform === 'win32' ? await import('./win32-indicator.js') : undefined;

export interface PresenceWindows {
  openIndicator?: OpenIndicator;
  openChatWindow?: OpenChatWindow;
}

export function createPresenceWindows(opts: {
  log: Pick<Logger, 'info' | 'warn'>;
  /** X11: the session's display (default `$DISPLAY`). */
  display?: string;
}): PresenceWindows {
  if (win32) {
    // The chat window lives in the indicator's process: chat goes through the indicator open now.
    let current: Win32IndicatorWindow | undefined;
    let replies: ChatWindowEvents | undefined;
    return {
      openIndicator: (text, events) =>
        (current = win32.openWin32Indicator(text, events, {
          log: opts.log,
          onReply: (t) => replies?.reply(t),
        })),
      openChatWindow: (events) => {
        replies = events;
        return {
          show: (from, text) => {
            if (!current || current.closed) events.unavailable('the indicator window is not running');
            else current.chatLine(`${from}: ${text}`);
          },
          open: () => current?.openChat(),
          close: () => {
            if (replies === events) replies = undefined;
          },
        };
      },
    };
  }
  if (x11) {
    return {
      openIndicator: (text, events) => x11.openX11Indicator(text, events, { display: opts.display }),
      openChatWindow: (events) =>
        openZenityChatWindow(events, { log: opts.log, ...(opts.display ? { display: opts.display } : {}) }),
    };
  }
  return {};
}
