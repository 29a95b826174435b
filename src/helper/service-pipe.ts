/**
 * The helper's end of its broker pipe on Windows. The service created the pipe (one instance, a DACL
 * for SYSTEM and, in user-token mode, the session user) before it started the helper; the helper opens
 * it with its own CreateFileW client rather than node:net, for two reasons:
 *
 * - It allows the server to identify it but not to impersonate it (SECURITY_SQOS_PRESENT |
 *   SECURITY_IDENTIFICATION, native/win32/pipe-client.ts). A helper runs as SYSTEM: a process that
 *   squatted the pipe name would otherwise become SYSTEM with ImpersonateNamedPipeClient.
 * - Before a byte is exchanged it checks who serves the pipe: the server's pid
 *   (GetNamedPipeServerProcessId) must be the service's, and that process's token user the service's
 *   account (S-1-5-18, LocalSystem, for an installed service). Both come from the service on the
 *   helper's command line (`--service-pid`, `--service-sid`).
 *
 * In user-token mode the helper is a standard user, and Windows refuses it a look at a LocalSystem
 * process's token (ERROR_ACCESS_DENIED from OpenProcess): then the pid alone identifies the server, and
 * the impersonation level is what protects the client, whose rights are only the user's own. In system
 * mode (the helper runs as the service's account) the token must be readable and match.
 *
 * The HMAC handshake that follows still authenticates the service (proofS): these checks come first so
 * that a squatter learns nothing, not even that a helper exists.
 */
import type { Duplex } from 'node:stream';
import { PortholeError } from '../errors/porthole-error.js';
import { errorMessage } from '../errors/error-text.js';
import type { Logger } from '../log/logger.js';
import { realTimers, type Timers } from '../time/timers.js';
import type { EventWaiter } from '../native/win32/event-waiter.js';
import { closeHandle } from '../native/win32/kernel32.js';
import type { Handle } from '../native/win32/library.js';
import {
  ERROR_ACCESS_DENIED,
  ERROR_PIPE_BUSY,
  openPipeClient,
  pipeServerProcessId,
  processUserSid,
} from '../native/win32/pipe-client.js';
import { PipeStream } from '../native/win32/pipe-stream.js';
import { ERROR_FILE_NOT_FOUND } from '../native/win32/registry.js';
import { ownUserSid } from '../native/win32/token.js';

export interface ExpectedPipeServer {
  /** The service's process id. */
  pid: number;
  /** The SID string of the account the service runs as (`S-1-5-18` when installed). */
  sid: string;
}

/** What the helper found out about the process serving its pipe. */
export interface FoundPipeServer {
  pid: number;
  /** Its token user, or why it could not be read. */
  sid: { ok: true; value: string } | { ok: false; error: string; accessDenied: boolean };
}

/**
 * Why the server is not the expected one, or undefined when it is. `requireSid`: the helper runs as
 * the service's own account (system token mode), so it can always read the server's token, and an
 * unreadable token is a refusal.
 */
export function pipeServerProblem(
  found: FoundPipeServer,
  expected: ExpectedPipeServer,
  opts: { requireSid: boolean },
): string | undefined {
  if (found.pid !== expected.pid) {
    return `the pipe is served by pid ${found.pid}, not by the service (pid ${expected.pid})`;
  }
  if (found.sid.ok) {
    return found.sid.value === expected.sid
      ? undefined
      : `the pipe's server runs as ${found.sid.value}, not as the service's account ${expected.sid}`;
  }
  if (opts.requireSid || !found.sid.accessDenied) {
    return `cannot read the account of the pipe's server (pid ${found.pid}): ${found.sid.error}`;
  }
  return undefined;
}

/** A refused or unreachable broker pipe (`pipe_server_refused`, `pipe_unavailable`). */
export class ServicePipeError extends PortholeError<'pipe_server_refused' | 'pipe_unavailable'> {
  override name = 'ServicePipeError';
}

/** The Win32 side, behind an interface so that the connect logic is tested on Linux. */
export interface PipeClientApi<H = unknown> {
  /** CreateFileW of the client end; throws an error with `win32Code`. */
  open(name: string): H;
  serverPid(handle: H): number;
  /** The token user of a process; throws an error with `win32Code` (5: access denied). */
  userSid(pid: number): string;
  /** This process's own token user. */
  ownSid(): string;
  close(handle: H): void;
  /** The connected handle as a stream; the stream owns the handle from then on. */
  stream(handle: H): Duplex;
}

/**
 * CreateFileW failures worth another try before the deadline: no instance yet, or its one instance
 * taken (another client holds it until the service refuses it and listens again).
 */
const RETRY_CODES = new Set([ERROR_FILE_NOT_FOUND, ERROR_PIPE_BUSY]);

const win32Code = (err: unknown): number | undefined => {
  const code = (err as { win32Code?: unknown } | null)?.win32Code;
  return typeof code === 'number' ? code : undefined;
};

export interface ConnectServicePipeOptions<H> {
  name: string;
  expected: ExpectedPipeServer;
  api: PipeClientApi<H>;
  log: Pick<Logger, 'info' | 'warn'>;
  /** How long to keep trying to open the pipe (default 10 s). */
  timeoutMs?: number;
  /** Pause between tries (default 50 ms). */
  retryMs?: number;
  timers?: Timers;
}

/**
 * Opens the broker pipe, checks its server, and returns the connection as a stream for the handshake.
 * A refused server is never retried: the handle is closed and a `pipe_server_refused` error thrown.
 */
export async function connectServicePipe<H>(opts: ConnectServicePipeOptions<H>): Promise<Duplex> {
  const { api, expected, log } = opts;
  const timers = opts.timers ?? realTimers;
  const deadline = timers.now() + (opts.timeoutMs ?? 10_000);
  let handle: H;
  for (;;) {
    try {
      handle = api.open(opts.name);
      break;
    } catch (err) {
      const code = win32Code(err);
      if (code === undefined || !RETRY_CODES.has(code) || timers.now() >= deadline) {
        throw new ServicePipeError('pipe_unavailable', `cannot open ${opts.name}: ${errorMessage(err)}`, {
          cause: err,
        });
      }
      await new Promise<void>((resolve) => timers.setTimeout(resolve, opts.retryMs ?? 50));
    }
  }
  let problem: string | undefined;
  try {
    const pid = api.serverPid(handle);
    let sid: FoundPipeServer['sid'];
    try {
      sid = { ok: true, value: api.userSid(pid) };
    } catch (err) {
      sid = { ok: false, error: errorMessage(err), accessDenied: win32Code(err) === ERROR_ACCESS_DENIED };
    }
    problem = pipeServerProblem({ pid, sid }, expected, { requireSid: api.ownSid() === expected.sid });
    if (!problem && !sid.ok) {
      log.info(
        { serverPid: pid, reason: sid.error },
        "the pipe's server is the service's pid; its account is not readable by this user",
      );
    }
  } catch (err) {
    problem = `cannot identify the pipe's server: ${errorMessage(err)}`;
  }
  if (problem) {
    api.close(handle);
    log.warn({ pipe: opts.name, problem }, 'refusing the broker pipe');
    throw new ServicePipeError('pipe_server_refused', problem);
  }
  return api.stream(handle);
}

/** The real calls; the stream completes its I/O through `waiter`. */
export function win32PipeClientApi(waiter: EventWaiter): PipeClientApi<Handle> {
  return {
    open: openPipeClient,
    serverPid: pipeServerProcessId,
    userSid: processUserSid,
    ownSid: ownUserSid,
    close: closeHandle,
    stream: (handle) => new PipeStream(handle, waiter),
  };
}
