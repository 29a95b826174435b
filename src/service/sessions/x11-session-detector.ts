import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import type { SessionState } from '../../protocol/api.js';
import {
  localDisplayNumber,
  logindState,
  readLogindSessions,
  x11SessionsByDisplay,
  type LogindSession,
} from './logind.js';
import { readPasswd, type PasswdTable } from './passwd.js';
import type { DetectedSession, SessionDetector, SessionEvent } from './session-detector.js';
import { SessionPoller } from './session-poller.js';
import { findXServerAuthFile } from './x-server-auth.js';
import { DEFAULT_X_SOCKET_DIR, isListening, readXSocketFiles, type XSocketFile } from './x-sockets.js';
import { type Logger, silentLogger } from '../../log/logger.js';

/** A display named in the configuration; fields given here win over what detection finds. */
export interface ConfiguredDisplay {
  /** A local display: `:1` or `:1.0`. */
  display: string;
  username?: string;
  uid?: number;
  gid?: number;
  xauthority?: string;
}

export interface X11SessionDetectorOptions {
  /** Where X servers put their sockets. Default /tmp/.X11-unix. */
  socketDir?: string;
  /** How often start() re-reads the sessions. Default 2000 ms. */
  pollMs?: number;
  /**
   * When given and not empty, only these displays are sessions (each still only while its X server is
   * live) and discovery of other sockets is off. An empty list means discovery, so that a config file
   * with an empty default does not hide every session.
   */
  configured?: ConfiguredDisplay[];
  /** Ask systemd-logind (through loginctl) for owners, lock and activity. Default true. */
  useLogind?: boolean;
  /** The loginctl binary. Default `loginctl` from PATH. */
  loginctl?: string;
  passwdPath?: string;
  procDir?: string;
  log?: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
}

export const DEFAULT_POLL_MS = 2000;
/** After loginctl fails, how long to go on without it before asking again. */
const LOGIND_RETRY_MS = 30_000;

interface Candidate {
  display: number;
  socket: XSocketFile;
  config: ConfiguredDisplay | undefined;
}

/**
 * Linux sessions: one per live local X display. The X socket directory says which displays exist,
 * a connection to each socket says whether its server is alive, the socket's owner (or logind's
 * session for that display) says whose it is, and logind adds lock and foreground state.
 */
export class X11SessionDetector implements SessionDetector {
  readonly #socketDir: string;
  readonly #pollMs: number;
  readonly #configured: Map<number, ConfiguredDisplay> | undefined;
  readonly #useLogind: boolean;
  readonly #loginctl: string;
  readonly #passwdPath: string | undefined;
  readonly #procDir: string | undefined;
  readonly #log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  #logindRetryAt = 0;
  #logindFailure: string | undefined;
  readonly #authCache = new Map<number, { identity: string; file: string | undefined }>();
  #poller: SessionPoller | null = null;

  constructor(opts: X11SessionDetectorOptions = {}) {
    this.#socketDir = opts.socketDir ?? DEFAULT_X_SOCKET_DIR;
    this.#pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
    if (!(Number.isFinite(this.#pollMs) && this.#pollMs > 0))
      throw new Error('pollMs must be a positive number');
    this.#configured =
      opts.configured !== undefined && opts.configured.length > 0
        ? configuredByNumber(opts.configured)
        : undefined;
    this.#useLogind = opts.useLogind ?? true;
    this.#loginctl = opts.loginctl ?? 'loginctl';
    this.#passwdPath = opts.passwdPath;
    this.#procDir = opts.procDir;
    this.#log = opts.log ?? silentLogger;
  }

  async list(): Promise<DetectedSession[]> {
    const sockets = await readXSocketFiles(this.#socketDir);
    const candidates = this.#candidates(sockets);
    const alive = await Promise.all(candidates.map((c) => c.socket.isSocket && isListening(c.socket.path)));
    const live = candidates.filter((_, i) => alive[i]);
    const [passwd, logind] = await Promise.all([readPasswd(this.#passwdPath), this.#logindSessions()]);
    for (const n of this.#authCache.keys()) if (!live.some((c) => c.display === n)) this.#authCache.delete(n);

    const sessions = await Promise.all(live.map((c) => this.#describe(c, passwd, logind?.get(c.display))));
    const consoleId = pickConsole(live, logind);
    return sessions.map((s) => ({ ...s, console: s.sessionId === consoleId }));
  }

  /**
   * Reads the sessions once as a baseline, then reports changes to it. Sessions present at start get
   * no logon: callers take them from list() once start() has resolved (a change in between arrives as
   * an event as well, so nothing is missed).
   */
  async start(listener: (event: SessionEvent) => void): Promise<void> {
    if (this.#poller) throw new Error('session detector already started');
    this.#poller = new SessionPoller({
      read: () => this.list(),
      pollMs: this.#pollMs,
      watchDir: this.#socketDir,
      log: this.#log,
    });
    try {
      await this.#poller.start(listener);
    } catch (err) {
      this.#poller = null;
      throw err;
    }
  }

  async stop(): Promise<void> {
    const poller = this.#poller;
    this.#poller = null;
    await poller?.stop();
  }

  #candidates(sockets: readonly XSocketFile[]): Candidate[] {
    const configured = this.#configured;
    if (configured === undefined)
      return sockets.map((socket) => ({ display: socket.display, socket, config: undefined }));
    return sockets
      .filter((socket) => configured.has(socket.display))
      .map((socket) => ({ display: socket.display, socket, config: configured.get(socket.display) }));
  }

  async #describe(
    c: Candidate,
    passwd: PasswdTable,
    ls: LogindSession | undefined,
  ): Promise<DetectedSession> {
    const cfg = c.config;
    const uid =
      cfg?.uid ??
      (cfg?.username !== undefined ? passwd.byName(cfg.username)?.uid : undefined) ??
      ls?.uid ??
      c.socket.uid;
    const account = passwd.byUid(uid);
    const username =
      cfg?.username ?? (ls && ls.name !== '' ? ls.name : undefined) ?? account?.name ?? String(uid);
    const gid = cfg?.gid ?? account?.gid ?? c.socket.gid;
    const state: SessionState = ls ? logindState(ls) : 'active';
    const xauthority = cfg?.xauthority ?? (await this.#xauthority(c, account?.home));
    return {
      sessionId: c.display,
      username,
      state,
      type: 'x11',
      console: false,
      x11: {
        display: `:${c.display}`,
        uid,
        gid,
        ...(xauthority !== undefined && { xauthority }),
        ...(account?.home !== undefined && account.home !== '' && { home: account.home }),
      },
    };
  }

  /** The X server's own `-auth` file, else the owner's ~/.Xauthority when it exists. */
  async #xauthority(c: Candidate, home: string | undefined): Promise<string | undefined> {
    // The server behind a socket file does not change, so /proc is scanned once per socket file.
    let cached = this.#authCache.get(c.display);
    if (cached?.identity !== c.socket.identity) {
      cached = { identity: c.socket.identity, file: await findXServerAuthFile(c.display, this.#procDir) };
      this.#authCache.set(c.display, cached);
    }
    if (cached.file !== undefined) return cached.file;
    if (home === undefined || home === '') return undefined;
    const candidate = join(home, '.Xauthority');
    try {
      await access(candidate, constants.F_OK);
      return candidate;
    } catch {
      return undefined;
    }
  }

  /** logind's X sessions by display, or undefined when logind is off or not answering. */
  async #logindSessions(): Promise<Map<number, LogindSession> | undefined> {
    if (!this.#useLogind || Date.now() < this.#logindRetryAt) return undefined;
    const result = await readLogindSessions(this.#loginctl);
    if (!result.ok) {
      // Once per kind of failure: on machines without systemd this is the normal case, not an alarm.
      if (this.#logindFailure !== result.code) {
        this.#log.info(
          { code: result.code, reason: result.reason },
          'systemd-logind not available; using X sockets only',
        );
        this.#logindFailure = result.code;
      }
      this.#logindRetryAt = Date.now() + LOGIND_RETRY_MS;
      return undefined;
    }
    if (this.#logindFailure !== undefined) {
      this.#log.info({}, 'systemd-logind available again');
      this.#logindFailure = undefined;
    }
    return x11SessionsByDisplay(result.sessions);
  }
}

function configuredByNumber(list: readonly ConfiguredDisplay[]): Map<number, ConfiguredDisplay> {
  const byNumber = new Map<number, ConfiguredDisplay>();
  for (const [i, entry] of list.entries()) {
    const n = localDisplayNumber(entry.display);
    if (n === undefined)
      throw new Error(`configured[${i}].display: '${entry.display}' is not a local display like ':1'`);
    for (const key of ['uid', 'gid'] as const) {
      const v = entry[key];
      if (v !== undefined && !(Number.isInteger(v) && v >= 0)) {
        throw new Error(`configured[${i}].${key}: must be a non-negative integer`);
      }
    }
    if (byNumber.has(n)) throw new Error(`configured[${i}].display: ':${n}' is listed twice`);
    byNumber.set(n, entry);
  }
  return byNumber;
}

/**
 * The display attached to the physical console: logind's seat0 X session when it has one (the active
 * one if several users are switched in on seat0), else the lowest-numbered display logind does not
 * call remote. Undefined when there is no live display.
 */
function pickConsole(
  live: readonly Candidate[],
  logind: Map<number, LogindSession> | undefined,
): number | undefined {
  const onSeat0 = live.filter((c) => logind?.get(c.display)?.seat === 'seat0');
  const activeOnSeat0 = onSeat0.find((c) => logind?.get(c.display)?.active === true);
  if (activeOnSeat0) return activeOnSeat0.display;
  if (onSeat0[0]) return onSeat0[0].display;
  return live.find((c) => logind?.get(c.display)?.remote !== true)?.display;
}
