/**
 * The session side of chat: a window where the person at the machine reads what viewers wrote and
 * answers. session-presence.ts opens one when the first line arrives or Chat is pressed on the
 * indicator, and closes it after the last viewer left. X11: zenity-chat-window.ts; Windows: the
 * indicator's own process (win32-indicator.ts).
 */

export interface ChatWindowEvents {
  /** The person answered: a line for every connected viewer (not yet validated). */
  reply(text: string): void;
  /** No window can be shown (e.g. zenity missing): said to the viewers once. */
  unavailable(reason: string): void;
}

export interface ChatWindow {
  /** A line from a viewer, shown with its sender's name. */
  show(from: string, text: string): void;
  /** The person asked for the window (Chat on the indicator). */
  open(): void;
  /** Closes the window and releases what it held. */
  close(): void;
}

export type OpenChatWindow = (events: ChatWindowEvents) => ChatWindow;
