/**
 * System V shared memory from libc, for MIT-SHM: the X server copies the screen straight into a
 * segment this process has mapped, so a frame costs one server-side copy and no socket transfer.
 */
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');

export const IPC_PRIVATE = 0;
export const IPC_CREAT = 0o1000;
export const IPC_RMID = 0;

export const shmget = libc.func('int shmget(int key, size_t size, int shmflg)');
export const shmat = libc.func('void *shmat(int shmid, void *shmaddr, int shmflg)');
export const shmdt = libc.func('int shmdt(void *shmaddr)');
export const shmctl = libc.func('int shmctl(int shmid, int cmd, void *buf)');

/** shmat reports failure as `(void *) -1`. */
export function shmatFailed(addr: unknown): boolean {
  return addr == null || koffi.address(addr) === 0xffff_ffff_ffff_ffffn;
}
