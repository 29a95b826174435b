/**
 * Overlapped I/O on a handle, completed through the shared EventWaiter: one `Overlapped` per kind of
 * operation (its OVERLAPPED memory, its event, whether an operation is in flight and the data buffer
 * the kernel uses), `whenComplete` to hear of the completion, and `cancelAndWait` + `releaseOp` to end
 * one. A cancelled operation still owns its OVERLAPPED and buffers until it completes ("The
 * application must not free or reuse the OVERLAPPED structure associated with the canceled I/O
 * operations until they have completed", CancelIoEx docs), so nothing is let go before that.
 */
import koffi from 'koffi';
import {
  checkHandle,
  closeHandle,
  ERROR_IO_INCOMPLETE,
  kernel32,
  OVERLAPPED,
  STATUS_PENDING,
} from './kernel32.js';
import type { Handle } from './library.js';
import { checkBool } from './last-error.js';
import type { EventWaiter } from './event-waiter.js';

/** One overlapped operation: its OVERLAPPED (whose memory must outlive it) and its event. */
export class Overlapped {
  readonly buffer = Buffer.alloc(koffi.sizeof(OVERLAPPED));
  readonly event: Handle;
  /** An operation was started on this OVERLAPPED (ERROR_IO_PENDING) and its completion not yet seen. */
  pending = false;
  /** The data buffer of the last operation: the kernel reads or fills it until the operation completes. */
  data: Buffer | null = null;

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

  /** HasOverlappedIoCompleted: Internal (the status, at offset 0) is no longer STATUS_PENDING. */
  get completed(): boolean {
    return this.buffer.readBigUInt64LE(koffi.offsetof(OVERLAPPED, 'Internal')) !== BigInt(STATUS_PENDING);
  }

  close(): void {
    closeHandle(this.event);
  }
}

/** How long `cancelAndWait` waits for a cancelled operation: 200 waits of 10 ms. */
const CANCEL_WAITS = 200;
const CANCEL_WAIT_MS = 10;
/** Operations that did not complete after their cancel: kept referenced (memory and event) for good. */
const abandoned = new Set<Overlapped>();

/**
 * Cancels `op`'s pending operation and waits for it to complete, so that its OVERLAPPED and event can
 * be released. Completion is read from the OVERLAPPED itself (HasOverlappedIoCompleted), not from the
 * event alone, which Wine 8 was seen signalling early. Cancelled pipe I/O completes at once; should it
 * not within ~2 s, the operation is abandoned (its memory and event kept) rather than freed under the
 * kernel. Returns whether it completed.
 */
export function cancelAndWait(handle: Handle, op: Overlapped): boolean {
  if (!op.pending) return true;
  const k = kernel32();
  k.CancelIoEx(handle, op.buffer); // ERROR_NOT_FOUND: it completed already
  for (let i = 0; i < CANCEL_WAITS && !op.completed; i++) k.WaitForSingleObject(op.event, CANCEL_WAIT_MS);
  if (!op.completed) {
    abandoned.add(op);
    return false;
  }
  op.pending = false;
  return true;
}

/** Lets go of `op`: its event is closed once no wait holds it, unless the operation was abandoned. */
export function releaseOp(waiter: EventWaiter, op: Overlapped): void {
  waiter.cancel(op.event, () => {
    if (!abandoned.has(op)) op.close();
  });
}

/**
 * Waits for `op` and calls `done` with GetOverlappedResult's answer. Under Wine 8 the event was seen
 * signalled while the operation was still incomplete (996); then the event is reset, the result
 * asked again (a completion in between is not lost) and the wait goes on.
 */
export function whenComplete(
  waiter: EventWaiter,
  handle: Handle,
  op: Overlapped,
  done: (ok: boolean, bytes: number, err: number) => void,
): void {
  op.pending = true;
  waiter.wait(op.event, () => {
    const n = [0];
    const finish = (ok: boolean, err: number): void => {
      op.pending = false;
      done(ok, n[0] as number, err);
    };
    if (kernel32().GetOverlappedResult(handle, op.buffer, n, 0)) return finish(true, 0);
    let err = kernel32().GetLastError() as number;
    if (err !== ERROR_IO_INCOMPLETE) return finish(false, err);
    kernel32().ResetEvent(op.event);
    if (kernel32().GetOverlappedResult(handle, op.buffer, n, 0)) return finish(true, 0);
    err = kernel32().GetLastError() as number;
    if (err !== ERROR_IO_INCOMPLETE) return finish(false, err);
    whenComplete(waiter, handle, op, done);
  });
}
