/**
 * The broker pipe on Windows. node:net creates pipes with the default DACL (Everyone may open them
 * for reading) and cannot take another, so the service creates each helper's pipe itself through
 * koffi: one instance (FILE_FLAG_FIRST_PIPE_INSTANCE, so nobody can squat the name first), remote
 * clients rejected, a DACL from SDDL, overlapped I/O. The first client must be the process the
 * service spawned (GetNamedPipeClientProcessId) in the session it was spawned into
 * (ProcessIdToSessionId); anything else is disconnected and the pipe listens again until the
 * deadline. The stream that results then runs the same HMAC handshake as every other transport.
 *
 * The helper end is plain node:net (`net.connect('\\.\pipe\…')`).
 */
import { Duplex } from 'node:stream';
import koffi from 'koffi';
import {
  checkHandle,
  closeHandle,
  ERROR_BROKEN_PIPE,
  ERROR_IO_PENDING,
  ERROR_MORE_DATA,
  ERROR_NO_DATA,
  ERROR_OPERATION_ABORTED,
  ERROR_PIPE_CONNECTED,
  ERROR_PIPE_NOT_CONNECTED,
  FILE_FLAG_FIRST_PIPE_INSTANCE,
  FILE_FLAG_OVERLAPPED,
  kernel32,
  OVERLAPPED,
  PIPE_ACCESS_DUPLEX,
  PIPE_READMODE_BYTE,
  PIPE_REJECT_REMOTE_CLIENTS,
  PIPE_TYPE_BYTE,
  PIPE_WAIT,
  processSessionId,
} from '../../native/win32/kernel32.js';
import type { Handle } from '../../native/win32/library.js';
import { securityDescriptorFromSddl } from '../../native/win32/security.js';
import { checkBool, lastError } from '../../native/win32/last-error.js';
import { Win32Error } from '../../native/win32/win32-error.js';
import type { EventWaiter } from './event-waiter.js';
import { errorMessage } from '../../errors/error-text.js';

/** SYSTEM only: full access for LocalSystem, nobody else, no inherited entries (`P`). */
export const SDDL_SYSTEM_ONLY = 'D:P(A;;GA;;;SY)';

/** SYSTEM, plus read/write for one user (user-token mode: the helper runs as the session's user). */
export function sddlSystemAndUser(userSid: string): string {
  if (!/^S-1-[0-9-]+$/.test(userSid)) throw new TypeError(`not a SID string: ${userSid}`);
  return `D:P(A;;GA;;;SY)(A;;GRGW;;;${userSid})`;
}

const BUFFER_SIZE = 64 * 1024;

export interface ClientCheck {
  pid: number;
  /** The WTS session the client must run in; undefined skips the check. */
  sessionId?: number;
}

/** One overlapped operation: its OVERLAPPED (whose memory must outlive it) and its event. */
class Overlapped {
  readonly buffer = Buffer.alloc(koffi.sizeof(OVERLAPPED));
  readonly event: Handle;

  constructor() {
    // Manual-reset, as overlapped I/O requires; Windows resets it when an operation starts.
    this.event = checkHandle('CreateEventW', kernel32().CreateEventW(null, 1, 0, null));
    koffi.encode(this.buffer, OVERLAPPED, {
      Internal: 0,
      InternalHigh: 0,
      Offset: 0,
      OffsetHigh: 0,
      hEvent: this.event,
    });
  }

  /**
   * Clears the event before an operation starts. Windows does this itself; Wine 8 was seen leaving
   * it signalled from an operation that completed at once, and a stale signal then reads as
   * ERROR_IO_INCOMPLETE (996).
   */
  reset(): Buffer {
    checkBool('ResetEvent', kernel32().ResetEvent(this.event));
    return this.buffer;
  }

  close(): void {
    closeHandle(this.event);
  }
}

const ERROR_IO_INCOMPLETE = 996;

/**
 * Waits for `op` and calls `done` with GetOverlappedResult's answer. Under Wine 8 the event was seen
 * signalled while the operation was still incomplete (996); then the event is reset, the result
 * asked again (a completion in between is not lost) and the wait goes on.
 */
function whenComplete(
  waiter: EventWaiter,
  handle: Handle,
  op: Overlapped,
  done: (ok: boolean, bytes: number, err: number) => void,
): void {
  waiter.wait(op.event, () => {
    const n = [0];
    if (kernel32().GetOverlappedResult(handle, op.buffer, n, 0)) return done(true, n[0] as number, 0);
    let err = kernel32().GetLastError() as number;
    if (err !== ERROR_IO_INCOMPLETE) return done(false, n[0] as number, err);
    kernel32().ResetEvent(op.event);
    if (kernel32().GetOverlappedResult(handle, op.buffer, n, 0)) return done(true, n[0] as number, 0);
    err = kernel32().GetLastError() as number;
    if (err !== ERROR_IO_INCOMPLETE) return done(false, n[0] as number, err);
    whenComplete(waiter, handle, op, done);
  });
}

/**
 * A pipe name chosen for one helper; the instance exists from construction (so a client can connect
 * as soon as the helper starts) until `accept` hands it to a stream or `close`.
 */
export class BrokerPipe {
  readonly name: string;
  readonly handle: Handle;
  #owned = true;

  constructor(name: string, sddl: string) {
    if (!/^\\\\\.\\pipe\\[A-Za-z0-9._-]{1,200}$/.test(name)) throw new TypeError(`bad pipe name ${name}`);
    this.name = name;
    const sd = securityDescriptorFromSddl(sddl);
    try {
      const sa = { nLength: 24, lpSecurityDescriptor: sd.pointer, bInheritHandle: 0 };
      this.handle = checkHandle(
        `CreateNamedPipeW(${name})`,
        kernel32().CreateNamedPipeW(
          name,
          PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
          PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
          1,
          BUFFER_SIZE,
          BUFFER_SIZE,
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
   * check are disconnected (and reported to `onRejected`); waiting goes on until `timeoutMs`.
   */
  accept(
    waiter: EventWaiter,
    check: ClientCheck,
    opts: { timeoutMs: number; onRejected?: (why: string, pid: number) => void },
  ): Promise<PipeStream> {
    return new Promise((resolve, reject) => {
      const op = new Overlapped();
      let done = false;
      const finish = (err: Error | undefined): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) {
          kernel32().CancelIoEx(this.handle, op.buffer);
          waiter.cancel(op.event, () => {
            op.close();
            this.close();
          });
          reject(err);
        } else {
          op.close();
          this.#owned = false;
          resolve(new PipeStream(this.handle, waiter));
        }
      };
      const timer = setTimeout(
        () => finish(new Error(`no helper connected to ${this.name} within ${opts.timeoutMs} ms`)),
        opts.timeoutMs,
      );
      const verify = (): void => {
        const why = this.#checkClient(check);
        if (why === undefined) return finish(undefined);
        const pid = this.#clientPid();
        opts.onRejected?.(why, pid);
        kernel32().DisconnectNamedPipe(this.handle);
        listen();
      };
      const listen = (): void => {
        if (done) return;
        if (kernel32().ConnectNamedPipe(this.handle, op.reset())) return verify();
        const err = kernel32().GetLastError() as number;
        if (err === ERROR_PIPE_CONNECTED) return verify();
        if (err !== ERROR_IO_PENDING) return finish(new Win32Error(`ConnectNamedPipe(${this.name})`, err));
        whenComplete(waiter, this.handle, op, (ok, _n, e) => {
          if (done) return;
          if (!ok) return finish(new Win32Error(`ConnectNamedPipe(${this.name})`, e));
          verify();
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

  /** Closes the instance unless a stream owns it now. */
  close(): void {
    if (!this.#owned) return;
    this.#owned = false;
    closeHandle(this.handle);
  }
}

/**
 * A connected pipe instance as a Duplex: one overlapped read and one overlapped write at a time,
 * each completed through the shared EventWaiter. The handle is closed when the stream is destroyed
 * and no operation is pending any more.
 */
export class PipeStream extends Duplex {
  readonly #handle: Handle;
  readonly #waiter: EventWaiter;
  readonly #readOp = new Overlapped();
  readonly #writeOp = new Overlapped();
  readonly #readBuffer = Buffer.alloc(BUFFER_SIZE);
  #writing: Buffer | null = null;
  #reading = false;
  #closedHandle = false;

  constructor(handle: Handle, waiter: EventWaiter) {
    super({ allowHalfOpen: false });
    this.#handle = handle;
    this.#waiter = waiter;
  }

  override _read(): void {
    if (this.#reading || this.destroyed) return;
    this.#reading = true;
    const n = [0];
    if (kernel32().ReadFile(this.#handle, this.#readBuffer, BUFFER_SIZE, n, this.#readOp.reset())) {
      this.#reading = false;
      this.#pushRead(n[0] as number);
      return;
    }
    const err = kernel32().GetLastError() as number;
    if (err === ERROR_MORE_DATA) {
      this.#reading = false;
      this.#pushRead(n[0] as number);
      return;
    }
    if (err !== ERROR_IO_PENDING) {
      this.#reading = false;
      this.#readFailed(err);
      return;
    }
    whenComplete(this.#waiter, this.#handle, this.#readOp, (ok, got, e) => {
      this.#reading = false;
      if (this.destroyed) return this.#maybeCloseHandle();
      if (ok || e === ERROR_MORE_DATA) this.#pushRead(got);
      else this.#readFailed(e);
    });
  }

  #pushRead(n: number): void {
    // A zero-byte read is not the end of a byte-mode pipe; ask again.
    if (n === 0) return this._read();
    if (this.push(Buffer.from(this.#readBuffer.subarray(0, n)))) this._read();
  }

  #readFailed(err: number): void {
    if (err === ERROR_BROKEN_PIPE || err === ERROR_PIPE_NOT_CONNECTED || err === ERROR_OPERATION_ABORTED) {
      this.push(null); // the helper closed its end or exited
      this.destroy();
    } else {
      this.destroy(new Win32Error('ReadFile(pipe)', err));
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.destroyed) return callback(new Error('pipe closed'));
    // The buffer must stay alive and unmoved until the write completes.
    this.#writing = Buffer.from(chunk);
    const n = [0];
    if (kernel32().WriteFile(this.#handle, this.#writing, this.#writing.length, n, this.#writeOp.reset())) {
      this.#writing = null;
      return callback();
    }
    const err = kernel32().GetLastError() as number;
    if (err !== ERROR_IO_PENDING) {
      this.#writing = null;
      return callback(writeError(err));
    }
    whenComplete(this.#waiter, this.#handle, this.#writeOp, (ok, _n, e) => {
      this.#writing = null;
      if (this.destroyed) {
        this.#maybeCloseHandle();
        return callback(new Error('pipe closed'));
      }
      callback(ok ? undefined : writeError(e));
    });
  }

  override _final(callback: (err?: Error | null) => void): void {
    callback();
    this.destroy();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    // Pending operations complete with ERROR_OPERATION_ABORTED; their callbacks close the handle.
    if (this.#reading || this.#writing) kernel32().CancelIoEx(this.#handle, null);
    this.#maybeCloseHandle();
    callback(err);
  }

  #maybeCloseHandle(): void {
    if (this.#closedHandle || this.#reading || this.#writing) return;
    this.#closedHandle = true;
    kernel32().DisconnectNamedPipe(this.#handle);
    closeHandle(this.#handle);
    this.#readOp.close();
    this.#writeOp.close();
  }
}

function writeError(err: number): Error {
  if (err === ERROR_NO_DATA || err === ERROR_BROKEN_PIPE) {
    return Object.assign(new Error('pipe closed by the helper'), { code: 'EPIPE' });
  }
  return new Win32Error('WriteFile(pipe)', err);
}
