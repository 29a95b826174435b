/**
 * The impairing router as a process, run inside the router's network namespace by harness.ts:
 * `node --import tsx bench/net/router-main.ts <tun name> <viewer prefix> <seed>`.
 * Packets the kernel routes into the TUN device are read one per read(), impaired (router.ts) and
 * written back, and the kernel forwards them on. Commands on stdin, one JSON object per line, each
 * answered by one JSON line on stdout:
 *   {"cmd":"impair","down":Impairment,"up":Impairment}  → {"ok":"impair"}
 *   {"cmd":"outage","ms":2000}  → {"ok":"outage","fromWallMs":…,"untilWallMs":…}
 *   {"cmd":"stats"}  → {"ok":"stats","down":DirectionStats,"up":DirectionStats,"queued":n}
 * It prints {"ready":true} once the TUN device is attached, and exits when stdin closes.
 */
import { read, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { realTimers } from '../../src/time/timers.js';
import { checkImpairment, type Impairment } from './impairment.js';
import { openTun } from './linux-net.js';
import { ImpairingRouter } from './router.js';

const [tunName, viewerPrefix, seedArg] = process.argv.slice(2);
if (!tunName || !viewerPrefix) {
  process.stderr.write('usage: router-main.ts <tun name> <viewer prefix> [seed]\n');
  process.exit(2);
}
const fd = openTun(tunName);
const router = new ImpairingRouter({
  viewerPrefix,
  seed: Number(seedArg ?? 1),
  timers: realTimers,
  write: (p) => {
    try {
      writeSync(fd, p);
    } catch {
      // The kernel refused the packet (no route while the harness is torn down): a lost packet.
    }
  },
});

const wall = (): number => performance.timeOrigin + performance.now();
const reply = (o: object): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

// One read at a time keeps arrival order; a read returns exactly one packet.
function readNext(): void {
  const buf = Buffer.allocUnsafe(65_536);
  read(fd, buf, 0, buf.length, null, (err, n) => {
    if (err) {
      process.stderr.write(`router: read failed: ${err.message}\n`);
      process.exit(1);
    }
    if (n > 0) router.receive(Buffer.from(buf.subarray(0, n)));
    readNext();
  });
}
readNext();

function asImpairment(v: unknown): Impairment {
  const o = v as Partial<Impairment> | null;
  const i = {
    delayMs: Number(o?.delayMs ?? 0),
    jitterMs: Number(o?.jitterMs ?? 0),
    loss: Number(o?.loss ?? 0),
    reorder: Number(o?.reorder ?? 0),
  };
  checkImpairment(i);
  return i;
}

createInterface({ input: process.stdin })
  .on('line', (line) => {
    try {
      const cmd = JSON.parse(line) as { cmd?: string; ms?: number; down?: unknown; up?: unknown };
      if (cmd.cmd === 'impair') {
        router.impair(asImpairment(cmd.down), asImpairment(cmd.up));
        reply({ ok: 'impair' });
      } else if (cmd.cmd === 'outage') {
        const ms = Number(cmd.ms);
        if (!(ms > 0 && ms <= 60_000)) throw new Error('outage ms must be within 1..60000');
        const from = wall();
        router.outage(ms);
        reply({ ok: 'outage', fromWallMs: from, untilWallMs: from + ms });
      } else if (cmd.cmd === 'stats') {
        reply({ ok: 'stats', down: router.down.stats, up: router.up.stats, notIpv4: router.dropped });
      } else {
        throw new Error(`unknown command ${String(cmd.cmd)}`);
      }
    } catch (err) {
      reply({ error: (err as Error).message });
    }
  })
  .on('close', () => {
    router.close();
    process.exit(0);
  });
reply({ ready: true });
