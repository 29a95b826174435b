import { execFile } from 'node:child_process';
import type { SessionState } from '../../protocol/api.js';
import { errorMessage } from '../../errors/error-text.js';

/** One systemd-logind session, as `loginctl show-session` prints it. */
export interface LogindSession {
  id: string;
  /** User name. */
  name: string;
  uid: number | undefined;
  /** `x11`, `wayland`, `tty`, `unspecified`, … */
  type: string;
  /** DISPLAY for X sessions (`:0`), '' otherwise. */
  display: string;
  /** `active`, `online` or `closing`. */
  state: string;
  active: boolean;
  lockedHint: boolean;
  remote: boolean;
  /** `seat0` for the physical console; '' for seatless (remote, VNC) sessions. */
  seat: string;
  /** `user`, `greeter`, `lock-screen`, `background`, … */
  class: string;
}

/** The properties read per session; every one of them is in systemd since v230. */
export const LOGIND_PROPERTIES = [
  'Id',
  'Name',
  'User',
  'Type',
  'Display',
  'State',
  'Active',
  'LockedHint',
  'Remote',
  'Seat',
  'Class',
] as const;

/**
 * Session ids from `loginctl list-sessions --no-legend -o json`. systemd ≥ 250 honours `-o json` and
 * prints an array of `{ session, uid, user, seat, … }`; older versions ignore it and print the table,
 * whose first column is the id. Both are accepted.
 */
export function parseSessionIds(output: string): string[] {
  const text = output.trim();
  if (text === '') return [];
  if (text.startsWith('[')) {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) return [];
    return parsed
      .map((row: unknown) =>
        typeof row === 'object' && row !== null ? (row as { session?: unknown }).session : undefined,
      )
      .filter((id): id is string => typeof id === 'string' && isSessionId(id));
  }
  // A row is `ID UID USER …`; a header or a "N sessions listed." footer (from a version that ignored
  // --no-legend) has no numeric uid in the second column.
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => /^\d+$/.test(cols[1] ?? ''))
    .map((cols) => cols[0] ?? '')
    .filter(isSessionId);
}

// logind ids are short tokens (`2`, `c1`, `13`); anything else is not an id and must not reach the
// show-session command line, where it could read as an option.
function isSessionId(id: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(id);
}

/**
 * Parses `loginctl show-session -p … <id>…`: one `Key=value` block per session, blocks separated by a
 * blank line. Blocks without an Id are dropped.
 */
export function parseShowSession(output: string): LogindSession[] {
  const sessions: LogindSession[] = [];
  for (const block of output.split(/\n\s*\n/)) {
    const props = new Map<string, string>();
    for (const line of block.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) props.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
    }
    const id = props.get('Id');
    if (id === undefined || id === '') continue;
    const user = props.get('User') ?? '';
    sessions.push({
      id,
      name: props.get('Name') ?? '',
      uid: /^\d+$/.test(user) ? Number(user) : undefined,
      type: props.get('Type') ?? '',
      display: props.get('Display') ?? '',
      state: props.get('State') ?? '',
      active: props.get('Active') === 'yes',
      lockedHint: props.get('LockedHint') === 'yes',
      remote: props.get('Remote') === 'yes',
      seat: props.get('Seat') ?? '',
      class: props.get('Class') ?? '',
    });
  }
  return sessions;
}

/** The display number of an X session's `Display` (`:1` or `:1.0`); undefined for remote or empty ones. */
export function localDisplayNumber(display: string): number | undefined {
  const m = /^:(\d{1,9})(?:\.\d+)?$/.exec(display);
  return m ? Number(m[1]) : undefined;
}

/**
 * The logind X sessions by display number. When several sessions name one display (a greeter that
 * handed over to a user, a session still closing) the one that best describes who is on it now wins:
 * a user session over a greeter, then an active one, then one that is not closing.
 */
export function x11SessionsByDisplay(sessions: readonly LogindSession[]): Map<number, LogindSession> {
  const rank = (s: LogindSession): number =>
    (s.class === 'user' ? 4 : 0) + (s.active ? 2 : 0) + (s.state !== 'closing' ? 1 : 0);
  const byDisplay = new Map<number, LogindSession>();
  for (const s of sessions) {
    if (s.type !== 'x11') continue;
    const n = localDisplayNumber(s.display);
    if (n === undefined) continue;
    const current = byDisplay.get(n);
    if (current === undefined || rank(s) > rank(current)) byDisplay.set(n, s);
  }
  return byDisplay;
}

/**
 * The porthole state of a live X display that logind knows about.
 *
 * - LockedHint → `locked` (the screen locker told logind; the desktop can still be captured, but the
 *   viewer sees the lock screen).
 * - State=active → `active`: the session is in the foreground of its seat.
 * - State=online → `connected`: logged on, its X server running, but not in the foreground — after a
 *   user switch on a seat, and always for seatless sessions (xrdp, VNC), which logind never calls
 *   active. It stays capturable, so it is not `disconnected`.
 * - State=closing → `disconnected`: the user logged out and only leftover processes keep the session
 *   open; nobody is on it.
 */
export function logindState(s: LogindSession): SessionState {
  if (s.state === 'closing') return 'disconnected';
  if (s.lockedHint) return 'locked';
  if (s.state === 'active' || s.active) return 'active';
  return 'connected';
}

export type LogindReadResult =
  { ok: true; sessions: LogindSession[] } | { ok: false; reason: string; code: string };

/**
 * Asks logind for its sessions through `loginctl`. Where loginctl is missing, or present without a
 * running systemd (containers, build machines: "Failed to connect to bus"), the result says so instead
 * of throwing, and the caller carries on with the X sockets alone.
 */
export async function readLogindSessions(loginctl = 'loginctl', timeoutMs = 2000): Promise<LogindReadResult> {
  const listed = await run(loginctl, ['list-sessions', '--no-legend', '--no-pager', '-o', 'json'], timeoutMs);
  if (!listed.ok) return listed;
  let ids: string[];
  try {
    ids = parseSessionIds(listed.stdout);
  } catch (err) {
    return { ok: false, code: 'EPARSE', reason: `list-sessions output: ${errorMessage(err)}` };
  }
  if (ids.length === 0) return { ok: true, sessions: [] };
  const props = LOGIND_PROPERTIES.flatMap((p) => ['-p', p]);
  const shown = await run(loginctl, ['show-session', '--no-pager', ...props, '--', ...ids], timeoutMs);
  // A session that ended between the two calls makes show-session fail for its id while still
  // printing the others, so partial output is used.
  if (!shown.ok && shown.stdout === '') return shown;
  return { ok: true, sessions: parseShowSession(shown.stdout) };
}

type RunResult = { ok: true; stdout: string } | { ok: false; reason: string; code: string; stdout: string };

function run(file: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs, maxBuffer: 1 << 20, env: { ...process.env, SYSTEMD_PAGER: '', LC_ALL: 'C' } },
      (err, stdout, stderr) => {
        if (err === null) {
          resolve({ ok: true, stdout });
          return;
        }
        const code = typeof err.code === 'string' ? err.code : `exit ${String(err.code ?? err.signal)}`;
        const reason = stderr.trim().split('\n')[0] || err.message;
        resolve({ ok: false, code, reason, stdout });
      },
    );
  });
}
