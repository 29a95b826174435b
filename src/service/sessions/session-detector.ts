import type { SessionState, SessionType } from '../../protocol/api.js';

/** One OS session as the detector sees it (without any helper state: the broker adds that). */
export interface DetectedSession {
  /** WTS session id on Windows; the X display number on Linux (`:1` → 1). */
  sessionId: number;
  /** Owner of the session ('' when nobody is logged on, e.g. the login screen). */
  username: string;
  state: SessionState;
  type: SessionType;
  /** True for the session attached to the physical console (Windows) or the first local display. */
  console: boolean;
  /** Platform details the spawner needs to start a helper inside the session. */
  x11?: X11SessionInfo;
}

export interface X11SessionInfo {
  /** DISPLAY value, e.g. ':1'. */
  display: string;
  /** XAUTHORITY file for that display, when one is known. */
  xauthority?: string;
  /** Owner's uid/gid (from the X socket's owner or logind). */
  uid: number;
  gid: number;
  home?: string;
}

export const SESSION_EVENTS = ['logon', 'logoff', 'connect', 'disconnect', 'lock', 'unlock'] as const;
export type SessionEventKind = (typeof SESSION_EVENTS)[number];

export interface SessionEvent {
  kind: SessionEventKind;
  sessionId: number;
  /** The session as it is after the event (absent after logoff). */
  session?: DetectedSession;
}

/**
 * Knows the machine's sessions and tells when they change. Implementations: x11 (X sockets + logind),
 * win32 (WTS), fake (tests).
 */
export interface SessionDetector {
  /** Current sessions, freshly read. */
  list(): Promise<DetectedSession[]>;
  /** Starts watching; events arrive through the listener until stop(). */
  start(listener: (event: SessionEvent) => void): Promise<void>;
  stop(): Promise<void>;
}
