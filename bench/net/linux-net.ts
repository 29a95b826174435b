/**
 * The two system calls the harness needs that Node does not offer, through koffi: attaching a file
 * descriptor to a TUN device (`ioctl(TUNSETIFF)` on /dev/net/tun) and moving the calling thread into
 * a named network namespace (`setns`). Both need root (CAP_NET_ADMIN, CAP_SYS_ADMIN). Linux only.
 */
import koffi from 'koffi';
import { closeSync, existsSync, openSync } from 'node:fs';

// <linux/if_tun.h>: _IOW('T', 202, int); <linux/if.h>: IFNAMSIZ; <sched.h>: CLONE_NEWNET.
const TUNSETIFF = 0x400454ca;
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;
const IFNAMSIZ = 16;
/** sizeof(struct ifreq) on Linux x86-64 and arm64. */
const IFREQ_SIZE = 40;
const CLONE_NEWNET = 0x40000000;

interface Libc {
  ioctl: (fd: number, request: number, type: string, arg: Buffer) => number;
  setns: (fd: number, nstype: number) => number;
  errno: () => number;
}
let libc: Libc | undefined;
function load(): Libc {
  if (process.platform !== 'linux') throw new Error('the network harness exists only on Linux');
  if (!libc) {
    const lib = koffi.load('libc.so.6');
    libc = {
      ioctl: lib.func('int ioctl(int fd, unsigned long request, ...)') as unknown as Libc['ioctl'],
      setns: lib.func('int setns(int fd, int nstype)') as unknown as Libc['setns'],
      errno: () => koffi.errno(),
    };
  }
  return libc;
}

/** Why the harness cannot run here, or undefined when it can (root, /dev/net/tun, `ip`, `tc`). */
export function harnessUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, TUN, tc)';
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun';
  for (const tool of ['/usr/sbin/ip', '/usr/sbin/tc']) {
    if (!existsSync(tool) && !existsSync(tool.replace('/usr', ''))) return `no ${tool} (iproute2)`;
  }
  return undefined;
}

/**
 * Opens /dev/net/tun and attaches it to the TUN device `name` (created if missing), without the
 * packet-information prefix: each read() is then one IP packet and each write() sends one.
 */
export function openTun(name: string): number {
  if (Buffer.byteLength(name) >= IFNAMSIZ) throw new Error(`TUN name ${name} is longer than ${IFNAMSIZ - 1}`);
  const c = load();
  const fd = openSync('/dev/net/tun', 'r+');
  const ifr = Buffer.alloc(IFREQ_SIZE);
  ifr.write(name, 0, 'ascii');
  ifr.writeUInt16LE(IFF_TUN | IFF_NO_PI, IFNAMSIZ);
  if (c.ioctl(fd, TUNSETIFF, 'void *', ifr) < 0) {
    const errno = c.errno();
    closeSync(fd);
    throw new Error(`ioctl(TUNSETIFF, ${name}) failed: errno ${errno}`);
  }
  return fd;
}

/**
 * Moves the calling thread (the JS main thread) into a network namespace: sockets it opens and
 * processes it spawns from then on live there; libuv's worker threads stay where they were. Returns a
 * function that moves it back.
 */
export function enterNetns(path: string): () => void {
  const c = load();
  const home = openSync('/proc/thread-self/ns/net', 'r');
  const target = openSync(path, 'r');
  try {
    if (c.setns(target, CLONE_NEWNET) !== 0) {
      closeSync(home);
      throw new Error(`setns(${path}) failed: errno ${c.errno()}`);
    }
  } finally {
    closeSync(target);
  }
  return () => {
    try {
      if (c.setns(home, CLONE_NEWNET) !== 0) throw new Error(`setns(back) failed: errno ${c.errno()}`);
    } finally {
      closeSync(home);
    }
  };
}
