/**
 * prctl(PR_SET_PDEATHSIG) from libc: asks the kernel to send this process a signal when the thread
 * that started it exits, however it exits (SIGKILL included). A helper sets it at start so that it
 * never outlives its service even if it missed the channel closing. The setting survives the
 * helper's own lifetime but not a fork, and is set after exec, so the uid drop at spawn does not
 * clear it.
 */
import koffi from 'koffi';
import { constants } from 'node:os';

const PR_SET_PDEATHSIG = 1;

type Prctl = (option: number, arg2: number, arg3: number, arg4: number, arg5: number) => number;
let prctl: Prctl | undefined;

/**
 * Linux only: `signal` is delivered when the parent dies. Returns false elsewhere or when prctl
 * fails. A parent that died before this call is not noticed here: check `process.ppid` after it.
 */
export function signalOnParentDeath(signal: 'SIGTERM' | 'SIGKILL'): boolean {
  if (process.platform !== 'linux') return false;
  prctl ??= koffi
    .load('libc.so.6')
    .func(
      'int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)',
    ) as unknown as Prctl;
  return prctl(PR_SET_PDEATHSIG, constants.signals[signal], 0, 0, 0) === 0;
}
