/**
 * poll(2) from libc, called on a libuv worker thread (koffi's `.async`), so the JS thread can sleep
 * until the X server writes to a connection's socket instead of waking on a timer to ask it.
 * The worker only watches the descriptor; every Xlib call stays on the JS thread.
 */
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');

export const POLLIN = 0x001;

const PollFd = koffi.struct('porthole_pollfd', { fd: 'int', events: 'short', revents: 'short' });
const poll = libc.func('poll', 'int', [koffi.inout(koffi.pointer(PollFd)), 'unsigned long', 'int']);

/**
 * Resolves `true` when `fd` has data to read, `false` after `timeoutMs` (or when poll fails: the
 * caller then just grabs as if woken). Occupies one libuv worker thread while it waits.
 */
export function waitReadable(fd: number, timeoutMs: number): Promise<boolean> {
  const pfd = { fd, events: POLLIN, revents: 0 };
  return new Promise((resolve) => {
    (poll as unknown as { async: (...a: unknown[]) => void }).async(
      pfd,
      1,
      Math.max(0, Math.round(timeoutMs)),
      (err: unknown, n: number) => resolve(!err && n > 0),
    );
  });
}
