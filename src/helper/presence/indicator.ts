/**
 * The "being viewed" indicator: a small always-on-top window in the session that says who is watching
 * and offers **Chat** and **Disconnect** to the person at the machine. session-presence.ts opens it at
 * the first connected viewer and closes it after the last; each platform draws it its own way
 * (x11-indicator.ts, win32-indicator.ts), and index.ts picks one.
 */

/** What the person at the machine can do from the indicator. */
export interface IndicatorEvents {
  /** Disconnect was pressed: every connection of this session ends. */
  disconnect(): void;
  /** Chat was pressed: the session's chat window opens. */
  chat(): void;
}

export interface IndicatorWindow {
  /** Replaces the text (viewers came or went, a notice). */
  setText(text: string): void;
  /** Removes the window and releases everything it held (X connection, window, child process). */
  close(): void;
}

/**
 * Shows the indicator with `text`; throws (a display that cannot be opened, a missing program) when it
 * cannot, and the caller logs it: the viewer is not refused for it (see SESSION-POLICY.md).
 */
export type OpenIndicator = (text: string, events: IndicatorEvents) => IndicatorWindow;
