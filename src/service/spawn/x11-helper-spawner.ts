import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Duplex, Readable } from 'node:stream';
import type { Logger } from '../../log/logger.js';
import type { HelperExit, HelperSpawner, SpawnRequest, SpawnedHelper } from './helper-spawner.js';

export interface X11SpawnerOptions {
  /** argv that starts porthole (the helper sub-command is appended), e.g. [node, bin/porthole.js]. */
  command: string[];
  /** Extra arguments after `helper` (e.g. capture options from the service config). */
  helperArgs?: string[];
  /** When the service runs as root, keep the helper as root instead of the session user. */
  keepRoot?: boolean;
  /** Extra environment for helpers (e.g. PORTHOLE_FFMPEG); never secrets. */
  env?: Record<string, string>;
  log: Logger;
}

/** fd number of the channel socket in the helper (stdin, stdout, stderr, then the channel). */
export const HELPER_CHANNEL_FD = 3;
const MAX_STDERR_LINE = 2000;

/**
 * Linux/X11 spawner. The helper gets the session's DISPLAY and XAUTHORITY and, when the service is
 * root, the session user's uid/gid (the analogue of a SYSTEM helper is `keepRoot`). Its channel is a
 * socketpair created by libuv for the extra stdio 'pipe' (fd 3): no path in the file system, so no
 * other user can reach it.
 */
export class X11HelperSpawner implements HelperSpawner {
  constructor(private readonly opts: X11SpawnerOptions) {}

  async spawn(req: SpawnRequest): Promise<SpawnedHelper> {
    const x = req.session.x11;
    if (!x) throw new Error(`session ${req.session.sessionId} has no X display to spawn into`);
    const [file, ...args] = this.opts.command;
    if (!file) throw new Error('helper command is empty');
    const asRoot = process.getuid?.() === 0;
    const dropTo = asRoot && !this.opts.keepRoot && x.uid !== 0 ? { uid: x.uid, gid: x.gid } : {};
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      DISPLAY: x.display,
      ...(x.xauthority ? { XAUTHORITY: x.xauthority } : {}),
      ...(x.home ? { HOME: x.home } : process.env.HOME ? { HOME: process.env.HOME } : {}),
      ...(req.session.username ? { USER: req.session.username, LOGNAME: req.session.username } : {}),
      ...passThroughEnv(),
      ...this.opts.env,
    };
    const child = spawn(
      file,
      [
        ...args,
        'helper',
        '--session',
        String(req.session.sessionId),
        '--helper-id',
        req.helperId,
        '--channel-fd',
        String(HELPER_CHANNEL_FD),
        ...(this.opts.helperArgs ?? []),
      ],
      { env, stdio: ['pipe', 'pipe', 'pipe', 'pipe'], ...dropTo },
    );
    const exited = watchExit(child);
    await Promise.race([once(child, 'spawn'), exited.then((e) => Promise.reject(spawnError(e, child)))]);
    const pid = child.pid as number;
    const log = this.opts.log.child({ sessionId: req.session.sessionId, pid });
    forwardOutput(child.stdout, log, 'stdout');
    forwardOutput(child.stderr, log, 'stderr');
    child.stdin?.on('error', () => undefined); // a helper that dies early closes its stdin; exit tells why
    child.stdin?.end(`${req.secret.toString('hex')}\n`);
    const channel = child.stdio[HELPER_CHANNEL_FD] as Duplex;
    return {
      pid,
      channel: Promise.resolve(channel),
      exited,
      kill: (force) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(force ? 'SIGKILL' : 'SIGTERM');
      },
    };
  }
}

/**
 * Variables a helper needs from the service's environment (binary overrides, Node flags, tsx), and
 * NODE_EXTRA_CA_CERTS: an API with a private CA, trusted by the service that way, is dialled by the
 * helper too (its WebSocket relay socket).
 */
const PASSED_THROUGH = new Set(['NODE_OPTIONS', 'LANG', 'NODE_EXTRA_CA_CERTS']);
function passThroughEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && (k.startsWith('PORTHOLE_') || PASSED_THROUGH.has(k))) out[k] = v;
  }
  return out;
}

function watchExit(child: ChildProcess): Promise<HelperExit> {
  return new Promise((resolve) => {
    let spawnErr: Error | undefined;
    child.once('error', (err) => {
      spawnErr = err;
      if (child.pid === undefined) resolve({ code: null, signal: null, ...errInfo(err) });
    });
    child.once('exit', (code, signal) => resolve({ code, signal, ...errInfo(spawnErr) }));
  });
}

const errInfo = (err: Error | undefined): object => (err ? { error: err.message } : {});

function spawnError(e: HelperExit, child: ChildProcess): Error {
  const detail = (e as HelperExit & { error?: string }).error ?? `exit ${e.code ?? e.signal}`;
  return new Error(`could not start helper (${child.spawnfile}): ${detail}`);
}

function forwardOutput(stream: Readable | null, log: Logger, name: string): void {
  if (!stream) return;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    const text = line.slice(0, MAX_STDERR_LINE);
    // Helpers log pino JSON on stderr; keep it structured. Anything else is kept as a line.
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (parsed && typeof parsed === 'object' && 'msg' in parsed) {
      const { msg, level, time: _t, pid: _p, name: _n, ...fields } = parsed as Record<string, unknown>;
      const method =
        typeof level === 'number' && level >= 50
          ? 'error'
          : level === 40
            ? 'warn'
            : level === 20
              ? 'debug'
              : 'info';
      log[method]({ from: 'helper', ...fields }, String(msg));
    } else {
      log.info({ stream: name, line: text }, 'helper output');
    }
  });
}
