/**
 * EventWaiter under Wine: one worker thread waits for every registered handle. A callback that
 * registers or cancels handles must not start a second worker: that one could still be waiting on
 * a handle a `cancel` has let the caller close, and WaitForMultipleObjects then fails (WAIT_FAILED,
 * seen once in CI as an uncaught error that would have ended the service).
 */
import { describe, expect, test } from 'vitest';
import { closeHandle, kernel32 } from '../../src/native/win32/kernel32.js';
import type { Handle } from '../../src/native/win32/library.js';
import { EventWaiter } from '../../src/native/win32/event-waiter.js';
import { waitFor } from '../fixtures/wait-for.js';

const manualEvent = (): Handle => kernel32().CreateEventW(null, 1, 0, null) as Handle;

/** Counts the WaitForMultipleObjects calls in flight, and the most seen at once. */
function countWorkers(): { now: () => number; most: () => number; restore: () => void } {
  const fn = kernel32().WaitForMultipleObjects as unknown as { async: (...args: unknown[]) => void };
  const original = fn.async;
  let now = 0;
  let most = 0;
  fn.async = (...args: unknown[]) => {
    const cb = args.pop() as (err: unknown, res: number) => void;
    now += 1;
    most = Math.max(most, now);
    original.call(fn, ...args, (err: unknown, res: number) => {
      now -= 1;
      cb(err, res);
    });
  };
  return { now: () => now, most: () => most, restore: () => (fn.async = original) };
}

describe('EventWaiter', () => {
  test('keeps one worker when a callback registers and cancels handles', async () => {
    const workers = countWorkers();
    const waiter = new EventWaiter();
    const [a, b, c, d] = [manualEvent(), manualEvent(), manualEvent(), manualEvent()];
    const fired: string[] = [];
    let released = 0;
    try {
      waiter.wait(b, () => fired.push('b'));
      waiter.wait(a, () => {
        fired.push('a');
        waiter.cancel(b, () => {
          closeHandle(b);
          released += 1;
        });
        waiter.wait(c, () => fired.push('c'));
      });
      kernel32().SetEvent(a);
      await waitFor(() => released === 1, { what: 'b released', timeoutMs: 5000 });
      waiter.wait(d, () => fired.push('d'));
      waiter.cancel(c, () => {
        closeHandle(c);
        released += 1;
      });
      await waitFor(() => released === 2, { what: 'c released', timeoutMs: 5000 });
      kernel32().SetEvent(d);
      await waitFor(() => fired.includes('d'), { what: 'd signalled', timeoutMs: 5000 });
      expect(fired).toEqual(['a', 'd']);
      expect(workers.most()).toBe(1);
    } finally {
      waiter.close();
      await waitFor(() => workers.now() === 0, { what: 'the worker to return', timeoutMs: 5000 });
      workers.restore();
      closeHandle(a);
      closeHandle(d);
    }
  });
});
