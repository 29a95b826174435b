/**
 * The broker pipe on Windows. node:net creates pipes with the default DACL (Everyone may open them
 * for reading) and cannot take another, so the service creates each helper's pipe itself through
 * koffi: one instance (FILE_FLAG_FIRST_PIPE_INSTANCE, so nobody can squat the name first), remote
 * clients rejected, a DACL from SDDL, overlapped I/O. The first client must be the process the
 * service spawned (GetNamedPipeClientProcessId) in the session it was spawned into
 * (ProcessIdToSessionId); anything else is disconnected and the pipe listens again until the
 * deadline, and so is a client that connected and closed before it was accepted (ERROR_NO_DATA). The
 * stream that results then runs the same HMAC handshake as every other transport.
 *
 * An overlapped operation that is cancelled (CancelIoEx) still owns its OVERLAPPED and event until it
 * completes ("The application must not free or reuse the OVERLAPPED structure associated with the
 * canceled I/O operations until they have completed", CancelIoEx docs): every cancel here waits for
 * that completion (overlapped.ts) before the event, the OVERLAPPED memory or the pipe handle is let go.
 *
 * The stream is a PipeStream (native/win32/pipe-stream.ts), the same Duplex the helper's end uses:
 * the helper opens its end with CreateFileW (native/win32/pipe-client.ts), not node:net, so that it can
 * refuse to be impersonated and check that this process is the server.
 */
import koffi from 'koffi';
import {
  checkHandle,
  closeHandle,
  ERROR_IO_PENDING,
  ERROR_NO_DATA,
  ERROR_PIPE_CONNECTED,
  FILE_FLAG_FIRST_PIPE_INSTANCE,
  FILE_FLAG_OVERLAPPED,
  kernel32,
  PIPE_ACCESS_DUPLEX,
  PIPE_READMODE_BYTE,
  PIPE_REJECT_REMOTE_CLIENTS,
  PIPE_TYPE_BYTE,
  PIPE_WAIT,
  processSessionId,
  SECURITY_ATTRIBUTES,
} from '../../native/win32/kernel32.js';
import type { Handle } from '../../native/win32/library.js';
import { securityDescriptorFromSddl } from '../../native/win32/security.js';
import { lastError } from '../../native/win32/last-error.js';
import { Win32Error } from '../../native/win32/win32-error.js';
import type { EventWaiter } from '../../native/win32/event-waiter.js';
import { cancelAndWait, Overlapped, releaseOp, whenComplete } from '../../native/win32/overlapped.js';
import { PIPE_BUFFER_BYTES, PipeStream } from '../../native/win32/pipe-stream.js';
import { errorMessage } from '../../errors/error-text.js';

/** SYSTEM only: full access for LocalSystem, nobody else, no inherited entries (`P`). */
export const SDDL_SYSTEM_ONLY = 'D:P(A;;GA;;;SY)';

/** SYSTEM, plus read/write for one user (user-token mode: the helper runs as the session's user). */
export function sddlSystemAndUser(userSid: string): string {
  if (!/^S-1-[0-9-]+$/.test(userSid)) throw new TypeError(`not a SID string: ${userSid}`);
  return `D:P(A;;GA;;;SY)(A;;GRGW;;;${userSid})`;
}

export interface ClientCheck {
  pid: number;
  /** The WTS session the client must run in; undefined skips the check. */
  sessionId?: number;
}

/**
 * A pipe name chosen for one helper; the instance exists from construction (so a client can connect
 * as soon as the helper starts) until `accept` hands it to a stream or `close`.
 */
export class BrokerPipe {
  readonly name: string;
  readonly handle: Handle;
  #owned = true;
  /** Ends an `accept` in progress (with this error), so that `close` never pulls the pipe from under it. */
  #abortAccept: ((err: Error) => void) | undefined;

  constructor(name: string, sddl: string) {
    if (!/^\\\\\.\\pipe\\[A-Za-z0-9._-]{1,200}$/.test(name)) throw new TypeError(`bad pipe name ${name}`);
    this.name = name;
    const sd = securityDescriptorFromSddl(sddl);
    try {
      const sa = {
        nLength: koffi.sizeof(SECURITY_ATTRIBUTES),
        lpSecurityDescriptor: sd.pointer,
        bInheritHandle: 0,
      };
      this.handle = checkHandle(
        `CreateNamedPipeW(${name})`,
        kernel32().CreateNamedPipeW(
          name,
          PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
          PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
          1,
          PIPE_BUFFER_BYTES,
          PIPE_BUFFER_BYTES,
          0,
          sa,
        ),
      );
    } finally {
      sd.free();
    }
  }

  /**
   * Waits for the expected client and returns the connection as a stream. Clients that fail the
   * check, and clients that came and went before being accepted, are disconnected (and reported to
   * `onRejected`); waiting goes on until `timeoutMs`. On any failure the pipe is closed, after the
   * pending ConnectNamedPipe has been cancelled and has completed.
   */
  accept(
    waiter: EventWaiter,
    check: ClientCheck,
    opts: { timeoutMs: number; onRejected?: (why: string, pid: number) => void },
  ): Promise<PipeStream> {
    if (!this.#owned) return Promise.reject(new Error(`pipe ${this.name} is closed or already accepted`));
    if (this.#abortAccept) return Promise.reject(new Error(`pipe ${this.name} is already accepting`));
    return new Promise((resolve, reject) => {
      const op = new Overlapped();
      let done = false;
      const finish = (err: Error | undefined): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#abortAccept = undefined;
        cancelAndWait(this.handle, op);
        if (err) {
          releaseOp(waiter, op);
          this.#closeHandle();
          reject(err);
        } else {
          releaseOp(waiter, op);
          this.#owned = false;
          resolve(new PipeStream(this.handle, waiter, { server: true }));
        }
      };
      this.#abortAccept = finish;
      const timer = setTimeout(
        () => finish(new Error(`no helper connected to ${this.name} within ${opts.timeoutMs} ms`)),
        opts.timeoutMs,
      );
      const listenAgain = (why: string, pid: number): void => {
        opts.onRejected?.(why, pid);
        kernel32().DisconnectNamedPipe(this.handle);
        listen();
      };
      const verify = (): void => {
        const why = this.#checkClient(check);
        if (why === undefined) return finish(undefined);
        listenAgain(why, this.#clientPidOrZero());
      };
      // "ConnectNamedPipe returns zero, and GetLastError returns ERROR_NO_DATA if the previous client
      // has closed its handle" (ConnectNamedPipe remarks): a client came and went; listen again.
      const cameAndWent = (): void =>
        listenAgain('client closed its end before it was accepted', this.#clientPidOrZero());
      const listen = (): void => {
        if (done) return;
        if (kernel32().ConnectNamedPipe(this.handle, op.reset())) return verify();
        const err = kernel32().GetLastError() as number;
        if (err === ERROR_PIPE_CONNECTED) return verify();
        if (err === ERROR_NO_DATA) return cameAndWent();
        if (err !== ERROR_IO_PENDING) return finish(new Win32Error(`ConnectNamedPipe(${this.name})`, err));
        whenComplete(waiter, this.handle, op, (ok, _n, e) => {
          if (done) return;
          if (ok) return verify();
          if (e === ERROR_NO_DATA) return cameAndWent();
          finish(new Win32Error(`ConnectNamedPipe(${this.name})`, e));
        });
      };
      try {
        listen();
      } catch (err) {
        finish(err as Error);
      }
    });
  }

  /** Why the connected client is refused, or undefined when it is the expected one. */
  #checkClient(check: ClientCheck): string | undefined {
    let pid: number;
    try {
      pid = this.#clientPid();
    } catch (err) {
      return errorMessage(err);
    }
    if (pid !== check.pid) return `client pid ${pid} is not the spawned helper ${check.pid}`;
    if (check.sessionId !== undefined) {
      const session = processSessionId(pid);
      if (session !== check.sessionId) return `client runs in session ${session}, not ${check.sessionId}`;
    }
    return undefined;
  }

  #clientPid(): number {
    const out = [0];
    if (!kernel32().GetNamedPipeClientProcessId(this.handle, out)) {
      throw lastError('GetNamedPipeClientProcessId');
    }
    return out[0] as number;
  }

  /** The client's pid for a report, 0 when Windows no longer knows it. */
  #clientPidOrZero(): number {
    try {
      return this.#clientPid();
    } catch {
      return 0;
    }
  }

  /**
   * Closes the instance unless a stream owns it now. An `accept` in progress is ended first (it
   * rejects), so its pending ConnectNamedPipe completes before the handle goes.
   */
  close(): void {
    this.#abortAccept?.(new Error(`pipe ${this.name} closed before a helper connected`));
    this.#closeHandle();
  }

  #closeHandle(): void {
    if (!this.#owned) return;
    this.#owned = false;
    closeHandle(this.handle);
  }
}
