import { Duplex } from 'node:stream';
import type { HelperExit, HelperSpawner, SpawnRequest, SpawnedHelper } from './helper-spawner.js';

/** What a fake helper gets: its end of the channel, its secret, and a way to "exit". */
export interface FakeHelperContext extends SpawnRequest {
  pid: number;
  stream: Duplex;
  exit(code: number | null, signal?: string | null): void;
  /** Resolves when the service kills this helper (with true for SIGKILL). */
  killed: Promise<boolean>;
  /** Signals sent while it ran: SIGKILL ends it; after SIGTERM it exits only when the test says so. */
  signals: ('SIGTERM' | 'SIGKILL')[];
}

/**
 * An in-process spawner for broker tests: each "helper" is a function run against one end of an
 * in-memory duplex pair. Real processes are tested with the x11 spawner; this one makes crash loops,
 * hangs and bad handshakes cheap to reproduce.
 */
export class FakeHelperSpawner implements HelperSpawner {
  private nextPid = 10_000;
  readonly spawned: FakeHelperContext[] = [];
  /** Makes the next spawn() calls fail, as a CreateProcess error would. */
  failNext = 0;
  /** spawn() calls made so far, including failed ones and ones still held. */
  calls = 0;
  /** While set, spawn() waits for it before it starts a helper (a slow CreateProcess). */
  hold: Promise<void> | undefined;

  /** `behaviour` runs as each helper starts; by default a helper does nothing until the test acts. */
  constructor(private readonly behaviour: (ctx: FakeHelperContext) => void = () => undefined) {}

  async spawn(req: SpawnRequest): Promise<SpawnedHelper> {
    this.calls += 1;
    if (this.hold) await this.hold;
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('fake spawn failure');
    }
    const [serviceEnd, helperEnd] = duplexPair();
    const pid = this.nextPid++;
    let resolveExit!: (e: HelperExit) => void;
    const exited = new Promise<HelperExit>((r) => (resolveExit = r));
    let resolveKilled!: (force: boolean) => void;
    const killed = new Promise<boolean>((r) => (resolveKilled = r));
    let done = false;
    const exit = (code: number | null, signal: string | null = null): void => {
      if (done) return;
      done = true;
      helperEnd.destroy();
      serviceEnd.destroy();
      resolveExit({ code, signal });
    };
    const ctx: FakeHelperContext = { ...req, pid, stream: helperEnd, exit, killed, signals: [] };
    this.spawned.push(ctx);
    queueMicrotask(() => this.behaviour(ctx));
    return {
      pid,
      channel: Promise.resolve(serviceEnd),
      exited,
      kill: (force) => {
        if (done) return;
        ctx.signals.push(force ? 'SIGKILL' : 'SIGTERM');
        resolveKilled(force === true);
        if (force) exit(null, 'SIGKILL');
      },
    };
  }

  /** Helpers that have not exited yet. */
  get running(): FakeHelperContext[] {
    return this.spawned.filter((c) => !c.stream.destroyed);
  }
}

/** Two connected in-memory duplex streams (node:stream's duplexPair needs Node ≥ 22.6). */
export function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const make = (peer: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        peer().push(chunk);
        cb();
      },
      final(cb) {
        peer().push(null);
        cb();
      },
      destroy(err, cb) {
        const p = peer();
        if (!p.destroyed) p.destroy();
        cb(err);
      },
    });
  const a = make(() => ends[1] as Duplex);
  const b = make(() => ends[0] as Duplex);
  ends.push(a, b);
  return [a, b];
}
