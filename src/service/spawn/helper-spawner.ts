import type { Duplex } from 'node:stream';
import type { DetectedSession } from '../sessions/session-detector.js';

export interface SpawnRequest {
  session: DetectedSession;
  /** Names this helper in the IPC handshake; not secret. */
  helperId: string;
  /** Per-helper IPC secret: written to the helper's stdin, never argv, env or a file. */
  secret: Buffer;
}

export interface HelperExit {
  code: number | null;
  signal: string | null;
}

export interface SpawnedHelper {
  pid: number;
  /** The service's end of the helper's channel, once the helper is reachable. */
  channel: Promise<Duplex>;
  exited: Promise<HelperExit>;
  /** Asks the helper to stop (SIGTERM / TerminateProcess); `force` kills it outright. */
  kill(force?: boolean): void;
}

/**
 * Starts `porthole helper` inside a session. Implementations: x11 (DISPLAY/XAUTHORITY, the session
 * user's uid/gid when running as root), win32 (SYSTEM token moved into the session), fake (tests).
 */
export interface HelperSpawner {
  spawn(req: SpawnRequest): Promise<SpawnedHelper>;
}
