import type { SessionState } from '../../protocol/api.js';
import { activeConsoleSessionId } from '../../native/win32/kernel32.js';
import {
  enumerateSessions,
  querySessionNumber,
  querySessionString,
  WTS_CONNECTSTATE,
  WTS_PROTOCOL_TYPE_RDP,
  WTSInfoClass,
  type WtsSessionEntry,
} from '../../native/win32/wtsapi32.js';
import type { DetectedSession, SessionDetector, SessionEvent } from './session-detector.js';
import { diffSessions } from './session-diff.js';
import { type Logger, silentLogger } from '../../log/logger.js';
import { errorMessage } from '../../errors/error-text.js';

/** What the detector reads from Windows; the default is WTS itself, tests may pass a scripted one. */
export interface WtsSource {
  enumerate(): WtsSessionEntry[];
  /** WTSGetActiveConsoleSessionId: 0xFFFFFFFF while the console is being switched. */
  consoleSessionId(): number;
  userName(sessionId: number): string;
  domainName(sessionId: number): string;
  /** A WTS_CONNECTSTATE value. */
  connectState(sessionId: number): number;
  /** WTSClientProtocolType: 0 console, 2 RDP. */
  protocol(sessionId: number): number;
}

export const wtsSource: WtsSource = {
  enumerate: enumerateSessions,
  consoleSessionId: activeConsoleSessionId,
  userName: (id) => querySessionString(id, WTSInfoClass.WTSUserName),
  domainName: (id) => querySessionString(id, WTSInfoClass.WTSDomainName),
  connectState: (id) => querySessionNumber(id, WTSInfoClass.WTSConnectState),
  protocol: (id) => querySessionNumber(id, WTSInfoClass.WTSClientProtocolType),
};

export interface Win32SessionDetectorOptions {
  /** How often start() re-reads the sessions, besides the SCM's session-change notices. Default 2000. */
  pollMs?: number;
  source?: WtsSource;
  log?: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
}

const NO_CONSOLE_SESSION = 0xffff_ffff;
/** The RDP listener's pseudo-session and anything above it is no user session. */
const LISTENER_SESSION_MIN = 65536;

/**
 * Windows sessions from WTS. Session 0 (services) never gets a helper. The SCM's
 * SERVICE_CONTROL_SESSIONCHANGE notices (passed in through `notify`) trigger a read at once, and a
 * timer reads anyway, because a notice can be missed (the service starts after a logon, the SCM drops
 * one under load): each read is diffed against the last, so both paths yield the same events.
 *
 * Lock state is not something WTSQuerySessionInformationW reports on every Windows version; it comes
 * from the lock/unlock notices and is cleared by a logoff or a change of user.
 */
export class Win32SessionDetector implements SessionDetector {
  readonly #pollMs: number;
  readonly #source: WtsSource;
  readonly #log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  readonly #locked = new Set<number>();
  #last: DetectedSession[] = [];
  #listener: ((e: SessionEvent) => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  #fallbackLogged = false;
  #failureLogged = false;

  constructor(opts: Win32SessionDetectorOptions = {}) {
    this.#pollMs = opts.pollMs ?? 2000;
    if (!(Number.isFinite(this.#pollMs) && this.#pollMs > 0)) throw new RangeError('pollMs must be > 0');
    this.#source = opts.source ?? wtsSource;
    this.#log = opts.log ?? silentLogger;
  }

  async list(): Promise<DetectedSession[]> {
    return this.#read();
  }

  async start(listener: (event: SessionEvent) => void): Promise<void> {
    if (this.#listener) throw new Error('session detector already started');
    this.#last = this.#read();
    this.#listener = listener;
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#listener = null;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /**
   * A SERVICE_CONTROL_SESSIONCHANGE notice (`kind` from WTS_SESSION_EVENT). Lock and unlock are
   * recorded, then the sessions are read and diffed at once.
   */
  notify(kind: string, sessionId: number): void {
    if (kind === 'lock') this.#locked.add(sessionId);
    else if (kind === 'unlock' || kind === 'logoff' || kind === 'logon') this.#locked.delete(sessionId);
    this.#log.debug({ kind, sessionId }, 'session change notice');
    this.#poll();
  }

  #schedule(): void {
    if (!this.#listener) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#poll(), this.#pollMs);
  }

  #poll(): void {
    if (!this.#listener) return;
    let now: DetectedSession[];
    try {
      now = this.#read();
      this.#failureLogged = false;
    } catch (err) {
      if (!this.#failureLogged) this.#log.warn({ err: errorMessage(err) }, 'session detection failed');
      this.#failureLogged = true;
      this.#schedule();
      return;
    }
    const events = diffSessions(this.#last, now);
    this.#last = now;
    for (const event of events) {
      this.#log.info({ kind: event.kind, sessionId: event.sessionId }, 'session event');
      try {
        this.#listener?.(event);
      } catch (err) {
        this.#log.warn({ err: errorMessage(err) }, 'session listener threw');
      }
    }
    this.#schedule();
  }

  #read(): DetectedSession[] {
    const consoleId = this.#source.consoleSessionId();
    let entries = this.#source
      .enumerate()
      .filter((e) => e.sessionId !== 0 && e.sessionId < LISTENER_SESSION_MIN)
      .filter((e) => e.state !== WTS_CONNECTSTATE.Listen && e.state !== WTS_CONNECTSTATE.Down);
    if (entries.length === 0 && consoleId !== NO_CONSOLE_SESSION && consoleId !== 0) {
      // Wine's WTSEnumerateSessionsW succeeds with no sessions; a real Windows always lists the
      // console's. Falling back to the console session keeps the machine reachable either way.
      if (!this.#fallbackLogged) {
        this.#log.info({ consoleId }, 'WTS lists no session; using the active console session');
        this.#fallbackLogged = true;
      }
      entries = [{ sessionId: consoleId, winStationName: 'Console', state: WTS_CONNECTSTATE.Active }];
    }
    const sessions = entries.map((e) => this.#describe(e, consoleId));
    for (const id of this.#locked) if (!sessions.some((s) => s.sessionId === id)) this.#locked.delete(id);
    return sessions.sort((a, b) => a.sessionId - b.sessionId);
  }

  #describe(e: WtsSessionEntry, consoleId: number): DetectedSession {
    const id = e.sessionId;
    const username = this.#optional(() => this.#source.userName(id), '');
    const state = this.#optional(() => this.#source.connectState(id), e.state);
    const protocol = this.#optional(() => this.#source.protocol(id), id === consoleId ? 0 : -1);
    return {
      sessionId: id,
      username,
      state: this.#locked.has(id) ? 'locked' : stateOf(state, username),
      type: protocol === WTS_PROTOCOL_TYPE_RDP ? 'rdp' : 'console',
      console: id === consoleId,
    };
  }

  /** A query that fails (Wine: connect state and station name fail with error 0) leaves the default. */
  #optional<T>(read: () => T, fallback: T): T {
    try {
      return read();
    } catch {
      return fallback;
    }
  }
}

function stateOf(wts: number, username: string): SessionState {
  switch (wts) {
    case WTS_CONNECTSTATE.Active:
      return 'active';
    case WTS_CONNECTSTATE.Disconnected:
      return 'disconnected';
    case WTS_CONNECTSTATE.Idle:
      return 'idle';
    default:
      // Connected: a session with a desktop but (usually) nobody logged on: the login screen.
      return username ? 'active' : 'connected';
  }
}
