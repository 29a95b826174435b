import {
  checkHandle,
  closeHandle,
  INFINITE,
  kernel32,
  MAXIMUM_WAIT_OBJECTS,
  WAIT_FAILED,
} from './kernel32.js';
import type { Handle } from './library.js';
import { Win32Error } from './win32-error.js';

/**
 * Waits for many kernel objects (overlapped-I/O events, helper processes) on one worker thread:
 * WaitForMultipleObjects through koffi's `.async`, which runs on libuv's thread pool. A wait per
 * object would hold one pool thread each, and the pool (4 threads by default) also serves fs and dns:
 * two helpers would starve it. A private wake-up event (index 0) restarts the wait when the set
 * changes. Each registration fires once, on the JS main thread.
 */
export class EventWaiter {
  readonly #wake: Handle;
  readonly #waits = new Map<Handle, () => void>();
  #running = false;
  /** True while a callback runs: wait()/cancel() from inside it must not start a second wait. */
  #dispatching = false;
  #closed = false;
  #wakeClosed = false;
  #released: (() => void)[] = [];

  constructor() {
    // Auto-reset: one SetEvent restarts one wait.
    this.#wake = checkHandle('CreateEventW', kernel32().CreateEventW(null, 0, 0, null));
  }

  /** Calls `onSignal` once, when `handle` is signalled. The handle must stay open until then. */
  wait(handle: Handle, onSignal: () => void): void {
    if (this.#closed) throw new Error('event waiter closed');
    if (this.#waits.size >= MAXIMUM_WAIT_OBJECTS - 1) throw new Error('too many objects to wait for');
    this.#waits.set(handle, onSignal);
    this.#restart();
  }

  /**
   * Forgets a registration (its callback will not run) and calls `released` once no worker waits on
   * the handle any more, so that it can be closed: a handle closed while a wait holds it is undefined.
   */
  cancel(handle: Handle, released: () => void = () => undefined): void {
    this.#waits.delete(handle);
    this.#released.push(released);
    this.#restart();
  }

  get size(): number {
    return this.#waits.size;
  }

  /** Ends the wait loop; the wake-up event is closed once the worker has returned. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waits.clear();
    this.#restart();
  }

  /**
   * Makes the wait loop see a change: wakes the worker if one is waiting; starts the loop if none is,
   * unless a callback is running, whose caller restarts the loop when it returns. Starting it from
   * inside a callback would leave two workers waiting, and the second could still hold a handle that
   * a `cancel` then closes (WaitForMultipleObjects fails with WAIT_FAILED).
   */
  #restart(): void {
    if (this.#running) kernel32().SetEvent(this.#wake);
    else if (!this.#dispatching) this.#loop();
  }

  #loop(): void {
    for (const released of this.#released.splice(0)) released();
    if (this.#closed) {
      // Once: a `cancel` after `close` runs this loop again.
      if (!this.#wakeClosed) closeHandle(this.#wake);
      this.#wakeClosed = true;
      return;
    }
    if (this.#waits.size === 0) return;
    const handles = [this.#wake, ...this.#waits.keys()];
    this.#running = true;
    kernel32().WaitForMultipleObjects.async(
      handles.length,
      handles,
      0,
      INFINITE,
      (err: unknown, index: number) => {
        this.#running = false;
        // Only a handle closed while still registered makes the wait fail: a bug, and fatal.
        if (err) throw err;
        if (index === WAIT_FAILED)
          throw new Win32Error('WaitForMultipleObjects', index, { detail: 'WAIT_FAILED' });
        if (index > 0 && index < handles.length) {
          const handle = handles[index];
          const onSignal = this.#waits.get(handle);
          this.#waits.delete(handle);
          this.#dispatching = true;
          try {
            onSignal?.();
          } finally {
            this.#dispatching = false;
            this.#loop();
          }
        } else {
          this.#loop();
        }
      },
    );
  }
}
