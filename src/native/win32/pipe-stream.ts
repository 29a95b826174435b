/**
 * A connected named-pipe handle as a Node Duplex, over overlapped ReadFile/WriteFile completed through
 * the shared EventWaiter. Both ends use it: the service's pipe instance (service/windows/pipe-server.ts)
 * and the helper's client handle (pipe-client.ts), which node:net cannot open with the security quality
 * of service porthole needs. The handle must have been opened with FILE_FLAG_OVERLAPPED.
 */
import { Duplex } from 'node:stream';
import {
  closeHandle,
  ERROR_BROKEN_PIPE,
  ERROR_IO_PENDING,
  ERROR_MORE_DATA,
  ERROR_NO_DATA,
  ERROR_OPERATION_ABORTED,
  ERROR_PIPE_NOT_CONNECTED,
  kernel32,
} from './kernel32.js';
import type { Handle } from './library.js';
import { Win32Error } from './win32-error.js';
import type { EventWaiter } from './event-waiter.js';
import { cancelAndWait, Overlapped, releaseOp, whenComplete } from './overlapped.js';

/** Bytes read per ReadFile, and the pipe buffer size the server asks for. */
export const PIPE_BUFFER_BYTES = 64 * 1024;

export interface PipeStreamOptions {
  /**
   * The server end of the pipe: destroying the stream also calls DisconnectNamedPipe, which ends the
   * client's connection at once (a client handle has nothing to disconnect).
   */
  server?: boolean;
}

/**
 * One overlapped read and one overlapped write at a time, each completed through the shared
 * EventWaiter. Destroying the stream cancels what is pending, waits for it to complete, then closes
 * the handle: nothing depends on the waiter still running.
 */
export class PipeStream extends Duplex {
  readonly #handle: Handle;
  readonly #waiter: EventWaiter;
  readonly #server: boolean;
  readonly #readOp = new Overlapped();
  readonly #writeOp = new Overlapped();
  readonly #readBuffer = Buffer.alloc(PIPE_BUFFER_BYTES);
  #writing: Buffer | null = null;
  #writeCallback: ((err?: Error | null) => void) | null = null;
  #reading = false;

  constructor(handle: Handle, waiter: EventWaiter, opts: PipeStreamOptions = {}) {
    super({ allowHalfOpen: false });
    this.#handle = handle;
    this.#waiter = waiter;
    this.#server = opts.server ?? false;
  }

  override _read(): void {
    if (this.#reading || this.destroyed) return;
    this.#reading = true;
    const n = [0];
    this.#readOp.data = this.#readBuffer;
    if (kernel32().ReadFile(this.#handle, this.#readBuffer, PIPE_BUFFER_BYTES, n, this.#readOp.reset())) {
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
      if (this.destroyed) return;
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
      this.push(null); // the other end closed its handle or exited
      this.destroy();
    } else {
      this.destroy(new Win32Error('ReadFile(pipe)', err));
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.destroyed) return callback(new Error('pipe closed'));
    // The buffer must stay alive and unmoved until the write completes.
    this.#writing = Buffer.from(chunk);
    this.#writeOp.data = this.#writing;
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
    this.#writeCallback = callback;
    whenComplete(this.#waiter, this.#handle, this.#writeOp, (ok, _n, e) => {
      this.#writing = null;
      this.#writeCallback = null;
      if (this.destroyed) return callback(new Error('pipe closed'));
      callback(ok ? undefined : writeError(e));
    });
  }

  override _final(callback: (err?: Error | null) => void): void {
    callback();
    this.destroy();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    // Pending operations are cancelled and waited for (their OVERLAPPED and buffers stay ours until
    // they complete), then the handle is closed; their waiter registrations are dropped with them.
    cancelAndWait(this.#handle, this.#readOp);
    cancelAndWait(this.#handle, this.#writeOp);
    this.#reading = false;
    const pendingWrite = this.#writeCallback;
    this.#writeCallback = null;
    this.#writing = null;
    if (this.#server) kernel32().DisconnectNamedPipe(this.#handle);
    closeHandle(this.#handle);
    releaseOp(this.#waiter, this.#readOp);
    releaseOp(this.#waiter, this.#writeOp);
    pendingWrite?.(new Error('pipe closed'));
    callback(err);
  }
}

function writeError(err: number): Error {
  if (err === ERROR_NO_DATA || err === ERROR_BROKEN_PIPE) {
    return Object.assign(new Error('pipe closed by the other end'), { code: 'EPIPE' });
  }
  return new Win32Error('WriteFile(pipe)', err);
}
