/**
 * Writes bytes into a running helper's end of its service channel, as if the helper had sent them:
 * `pidfd_getfd(2)` (Linux ≥ 5.6) duplicates the helper's descriptor into this process, which needs
 * ptrace rights over the helper (root, or its ancestor under Yama's default scope; this test process is
 * the helper's grandparent). What is written there arrives at the service exactly like a frame from the
 * helper, so the service's real frame checks judge it; the helper itself is not changed.
 */
import { closeSync, writeSync } from 'node:fs';
import koffi from 'koffi';

const SYS_PIDFD_OPEN = 434;
const SYS_PIDFD_GETFD = 438;

let syscall: ReturnType<ReturnType<typeof koffi.load>['func']> | undefined;

export function writeAsHelper(pid: number, fd: number, bytes: Buffer): void {
  syscall ??= koffi.load('libc.so.6').func('long syscall(long number, ...)');
  const pidfd = Number(syscall(SYS_PIDFD_OPEN, 'int', pid, 'unsigned int', 0));
  if (pidfd < 0) throw new Error(`pidfd_open(${pid}): errno ${koffi.errno()}`);
  try {
    const dup = Number(syscall(SYS_PIDFD_GETFD, 'int', pidfd, 'int', fd, 'unsigned int', 0));
    if (dup < 0) throw new Error(`pidfd_getfd(${pid}, ${fd}): errno ${koffi.errno()}`);
    try {
      writeSync(dup, bytes);
    } finally {
      closeSync(dup);
    }
  } finally {
    closeSync(pidfd);
  }
}

/**
 * A frame in the channel's layout (design/IPC.md: length, direction helper → service, sequence,
 * msgpack payload, HMAC tag) whose tag is zeros: well-formed to the length check, wrong to the HMAC.
 */
export function frameWithBadTag(sequence: bigint): Buffer {
  const payload = Buffer.from([0xc0]); // msgpack nil
  const body = Buffer.alloc(1 + 8 + payload.length + 32);
  body[0] = 0x02;
  body.writeBigUInt64BE(sequence, 1);
  payload.copy(body, 9);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}
