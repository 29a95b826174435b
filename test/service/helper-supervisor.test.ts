/**
 * The helper supervisor as the state machine of design/ARCHITECTURE.md ("The broker's state machine"):
 * a fake spawner, a fake link whose handshake the test completes, and a fake clock, so every arrow,
 * delay and kill is asserted exactly. Real helper processes are tested in service-process.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { HelperState } from '../../src/protocol/api.js';
import type { HelperToService } from '../../src/protocol/ipc.js';
import { silentLogger } from '../../src/log/logger.js';
import {
  DEFAULT_POLICY,
  HelperSupervisor,
  type SupervisorPolicy,
} from '../../src/service/helper-supervisor.js';
import type { DetectedSession } from '../../src/service/sessions/session-detector.js';
import { FakeHelperSpawner, type FakeHelperContext } from '../../src/service/spawn/fake-helper-spawner.js';
import { FakeClock, settle } from '../fixtures/fake-clock.js';
import { capabilities, FakeLinks, type FakeHelperLink } from './fake-helper-link.js';

const session: DetectedSession = {
  sessionId: 1,
  username: 'alice',
  state: 'active',
  type: 'x11',
  console: true,
};

function setup(opts: { policy?: Partial<SupervisorPolicy>; random?: () => number } = {}) {
  const clock = new FakeClock();
  const spawner = new FakeHelperSpawner();
  const links = new FakeLinks();
  const states: HelperState[] = [];
  const messages: HelperToService[] = [];
  let lost = 0;
  const sup: HelperSupervisor = new HelperSupervisor(session, {
    spawner,
    openLink: links.open,
    policy: { ...DEFAULT_POLICY, ...opts.policy },
    log: silentLogger,
    timers: clock,
    // The top of the jitter range: each delay is its ceiling, 0.5 s · 2ⁿ.
    random: opts.random ?? (() => 1),
    onChange: () => {
      if (states.at(-1) !== sup.state) states.push(sup.state);
    },
    onMessage: (body) => messages.push(body),
    onLost: () => (lost += 1),
  });

  const helper = (i: number): FakeHelperContext => {
    const h = spawner.spawned[i];
    if (!h) throw new Error(`no helper #${i} (spawned ${spawner.spawned.length})`);
    return h;
  };
  /** Completes helper #i's handshake. */
  const handshake = async (i: number): Promise<FakeHelperLink> => {
    await settle();
    const link = links.accept(helper(i).helperId);
    await settle();
    return link;
  };
  /** Completes helper #i's handshake and has it report its capabilities. */
  const bringUp = async (i: number): Promise<FakeHelperLink> => {
    const link = await handshake(i);
    link.emit(capabilities(session.sessionId));
    await settle();
    return link;
  };
  /** Makes helper #i's attempt fail by exiting, and returns the delay before the next spawn. */
  const crash = async (i: number): Promise<number> => {
    helper(i).exit(1);
    await settle();
    return respawnDelay();
  };
  /** The delay of the one respawn timer pending (asserted by watching the spawn happen). */
  const respawnDelay = async (): Promise<number> => {
    const before = spawner.calls;
    let waited = 0;
    while (spawner.calls === before) {
      if (waited > 10 * 60_000) throw new Error('no respawn within 10 minutes');
      const step = clock.pending[0] ?? 60_000;
      await clock.advance(step);
      waited += step;
    }
    return waited;
  };
  return {
    clock,
    spawner,
    links,
    sup,
    states,
    messages,
    lost: () => lost,
    helper,
    handshake,
    bringUp,
    crash,
  };
}

describe('helper supervisor: none → starting → ready', () => {
  it('starts one helper on ensureRunning, however often it is asked', async () => {
    const t = setup();
    expect(t.sup.state).toBe('none');
    t.sup.ensureRunning();
    t.sup.ensureRunning();
    await settle();
    t.sup.ensureRunning();
    await settle();
    expect(t.sup.state).toBe('starting');
    expect(t.spawner.calls).toBe(1);
    expect(t.links.waiting).toEqual([t.helper(0).helperId]);
  });

  it('gives each helper its own id and a 32-byte secret', async () => {
    const t = setup();
    t.sup.ensureRunning();
    await t.crash(0);
    const [a, b] = [t.helper(0), t.helper(1)];
    expect(a.helperId).toMatch(/^s1-g\d+-[0-9a-f]{8}$/);
    expect(b.helperId).toMatch(/^s1-g\d+-[0-9a-f]{8}$/);
    expect(a.helperId).not.toBe(b.helperId);
    expect(a.secret).toHaveLength(32);
    expect(a.secret.equals(b.secret)).toBe(false);
  });

  it('stays starting after the handshake until the helper reports its capabilities', async () => {
    const t = setup();
    t.sup.ensureRunning();
    const link = await t.handshake(0);
    expect(t.sup.state).toBe('starting');
    expect(t.sup.capabilities).toBeUndefined();
    link.emit(capabilities(1, { displays: [] }));
    await settle();
    expect(t.sup.state).toBe('ready');
    expect(t.sup.capabilities).toEqual(capabilities(1, { displays: [] }));
    expect(t.sup.pid).toBe(t.helper(0).pid);
    expect(t.states).toEqual(['starting', 'ready']);
  });

  it('starts a helper for a request and answers it with the link once the helper is ready', async () => {
    const t = setup();
    const ready = t.sup.ready(30_000);
    await settle();
    expect(t.sup.state).toBe('starting');
    const link = await t.bringUp(0);
    await expect(ready).resolves.toBe(link);
    // A request to a ready helper is answered at once, without a spawn.
    await expect(t.sup.ready(1)).resolves.toBe(link);
    expect(t.spawner.calls).toBe(1);
  });

  it('has requests that arrive during a spawn share that spawn', async () => {
    const t = setup();
    let release!: () => void;
    t.spawner.hold = new Promise((r) => (release = r));
    const first = t.sup.ready(30_000);
    t.sup.ensureRunning();
    await settle();
    const second = t.sup.ready(30_000); // while CreateProcess is still running
    release();
    await t.handshake(0);
    const third = t.sup.ready(30_000); // while the handshake is done but no capabilities came
    t.links.links.get(t.helper(0).helperId)!.emit(capabilities(1));
    await settle();
    const links = await Promise.all([first, second, third]);
    expect(new Set(links).size).toBe(1);
    expect(t.spawner.calls).toBe(1);
  });

  it('has a request that arrives during the backoff wait for the respawn, not spawn early', async () => {
    const t = setup();
    t.sup.ensureRunning();
    t.helper(0).exit(1);
    await settle();
    const ready = t.sup.ready(30_000);
    await t.clock.advance(499);
    expect(t.spawner.calls).toBe(1);
    await t.clock.advance(1);
    expect(t.spawner.calls).toBe(2);
    const link = await t.bringUp(1);
    await expect(ready).resolves.toBe(link);
  });

  it('rejects a request that waits longer than its timeout', async () => {
    const t = setup();
    const ready = t.sup.ready(5000);
    const outcome = ready.then(
      () => 'ready',
      (err: { code?: string }) => err.code,
    );
    await t.clock.advance(4999);
    expect(await Promise.race([outcome, Promise.resolve('pending')])).toBe('pending');
    await t.clock.advance(1);
    expect(await outcome).toBe('timeout');
    expect(t.sup.state).toBe('starting'); // the helper itself still has until readyTimeoutMs
  });

  it('passes the helper’s other messages on, and capabilities only once', async () => {
    const t = setup();
    t.sup.ensureRunning();
    const link = await t.bringUp(0);
    const log: HelperToService = { type: 'log', level: 'info', msg: 'hello' };
    const event: HelperToService = { type: 'event', name: 'desktop_closed', sessionId: 'd1' };
    link.emit(log);
    link.emit(event);
    link.emit(capabilities(1, { canCapture: false }));
    expect(t.messages).toEqual([log, event, capabilities(1, { canCapture: false })]);
    expect(t.sup.capabilities?.canCapture).toBe(true);
  });
});

describe('helper supervisor: starting → starting (respawn after a jittered backoff)', () => {
  it('respawns after the backoff when the spawn itself fails', async () => {
    const t = setup();
    t.spawner.failNext = 1;
    t.sup.ensureRunning();
    await settle();
    expect(t.sup.state).toBe('starting');
    expect(t.sup.lastError).toBe('fake spawn failure');
    expect(t.spawner.spawned).toHaveLength(0);
    await t.clock.advance(499);
    expect(t.spawner.calls).toBe(1);
    await t.clock.advance(1);
    expect(t.spawner.calls).toBe(2);
    expect(t.spawner.spawned).toHaveLength(1);
    expect(t.sup.state).toBe('starting');
  });

  it('kills a helper that reports no capabilities in time, then respawns after the backoff', async () => {
    const t = setup();
    t.sup.ensureRunning();
    await t.handshake(0); // the handshake alone is not enough
    await t.clock.advance(DEFAULT_POLICY.readyTimeoutMs - 1);
    expect(t.helper(0).signals).toEqual([]);
    await t.clock.advance(1);
    expect(t.helper(0).signals).toEqual(['SIGKILL']);
    expect(t.sup.state).toBe('starting');
    expect(t.sup.lastError).toBe(`no capabilities within ${DEFAULT_POLICY.readyTimeoutMs} ms`);
    await t.clock.advance(500);
    expect(t.spawner.calls).toBe(2);
  });

  it('kills a helper whose handshake fails, then respawns after the backoff', async () => {
    const t = setup();
    t.sup.ensureRunning();
    await settle();
    t.links.refuse(t.helper(0).helperId, new Error('bad proof'));
    await settle();
    expect(t.helper(0).signals).toEqual(['SIGKILL']);
    expect(t.sup.state).toBe('starting');
    expect(t.sup.lastError).toBe('bad proof');
    await t.clock.advance(499);
    expect(t.spawner.calls).toBe(1);
    await t.clock.advance(1);
    expect(t.spawner.calls).toBe(2);
  });

  it('respawns after the backoff when the helper exits before it is ready', async () => {
    const t = setup();
    t.sup.ensureRunning();
    await settle();
    t.helper(0).exit(3);
    await settle();
    expect(t.sup.state).toBe('starting');
    expect(t.sup.lastError).toBe('helper exited with code 3');
    await t.clock.advance(499);
    expect(t.spawner.calls).toBe(1);
    await t.clock.advance(1);
    expect(t.spawner.calls).toBe(2);
  });

  it('counts a helper that dies during the handshake as one failure, whichever it reports first', async () => {
    for (const order of ['exit first', 'channel first'] as const) {
      const t = setup({ policy: { maxFailures: 2 } });
      t.sup.ensureRunning();
      await settle();
      if (order === 'channel first') {
        t.helper(0).stream.destroy();
        await settle();
      }
      t.helper(0).exit(1);
      await settle();
      // One failure of two allowed: still starting, and the backoff is the first one.
      expect({ order, state: t.sup.state }).toEqual({ order, state: 'starting' });
      await t.clock.advance(499);
      expect(t.spawner.calls).toBe(1);
      await t.clock.advance(1);
      expect(t.spawner.calls).toBe(2);
    }
  });

  it('doubles the backoff after each failure up to 30 s', async () => {
    const t = setup({ policy: { maxFailures: 100 } });
    t.sup.ensureRunning();
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) delays.push(await t.crash(i));
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('jitters each delay between half and all of its ceiling', async () => {
    for (const [r, expected] of [
      [0, [250, 500, 1000, 2000]],
      [0.5, [375, 750, 1500, 3000]],
    ] as const) {
      const t = setup({ random: () => r });
      t.sup.ensureRunning();
      const delays: number[] = [];
      for (let i = 0; i < 4; i++) delays.push(await t.crash(i));
      expect(delays).toEqual(expected);
    }
  });

  it('starts the backoff over once a helper has stayed ready for a minute', async () => {
    const t = setup();
    t.sup.ensureRunning();
    expect(await t.crash(0)).toBe(500);
    expect(await t.crash(1)).toBe(1000);
    await t.bringUp(2);
    await t.clock.advance(DEFAULT_POLICY.stableAfterMs);
    expect(await t.crash(2)).toBe(500);
  });

  it('keeps backing off a helper that crashes right after it is ready', async () => {
    // Reset at ready, such a helper came back every 250–525 ms until the failure cap.
    const t = setup({ policy: { maxFailures: 100 } });
    t.sup.ensureRunning();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      await t.bringUp(i);
      await t.clock.advance(DEFAULT_POLICY.stableAfterMs - 1);
      delays.push(await t.crash(i));
    }
    expect(delays).toEqual([500, 1000, 2000, 4000]);
  });
});

describe('helper supervisor: ready → starting', () => {
  it('respawns after the backoff when a ready helper exits, and reports the helper lost', async () => {
    const t = setup();
    t.sup.ensureRunning();
    const link = await t.bringUp(0);
    t.helper(0).exit(null, 'SIGSEGV');
    await settle();
    expect(t.sup.state).toBe('starting');
    expect(t.sup.lastError).toBe('helper exited with SIGSEGV');
    expect(t.sup.capabilities).toBeUndefined();
    expect(t.sup.pid).toBeUndefined();
    expect(t.lost()).toBe(1);
    expect(link.closed).toBe(true);
    await t.clock.advance(500);
    expect(t.spawner.calls).toBe(2);
    await t.bringUp(1);
    expect(t.states).toEqual(['starting', 'ready', 'starting', 'ready']);
  });

  it('asks a ready helper whose channel closed to stop, and respawns once it has exited', async () => {
    const t = setup();
    t.sup.ensureRunning();
    const link = await t.bringUp(0);
    link.drop('peer closed');
    await settle();
    expect(t.helper(0).signals).toEqual(['SIGTERM']);
    t.helper(0).exit(0);
    await settle();
    expect(t.sup.state).toBe('starting');
    await t.clock.advance(500);
    expect(t.spawner.calls).toBe(2);
  });

  it('leaves ready the moment the channel closes, kills a helper that lingers, and respawns', async () => {
    // It used to stay "ready" (every desktop request then failed) until the process died by itself.
    const t = setup();
    t.sup.ensureRunning();
    const link = await t.bringUp(0);
    link.drop('bad_frame');
    await settle();
    expect(t.sup.state).toBe('starting');
    expect(t.sup.capabilities).toBeUndefined();
    expect(t.lost()).toBe(1);
    expect(t.helper(0).signals).toEqual(['SIGTERM']);
    await t.clock.advance(DEFAULT_POLICY.stopGraceMs - 1);
    expect(t.helper(0).signals).toEqual(['SIGTERM']);
    await t.clock.advance(1);
    expect(t.helper(0).signals).toEqual(['SIGTERM', 'SIGKILL']);
    t.helper(0).exit(null, 'SIGKILL');
    await settle();
    expect(t.sup.lastError).toBe('helper exited with SIGKILL after its channel closed (bad_frame)');
    expect(t.lost()).toBe(1);
    await t.clock.advance(500);
    expect(t.spawner.calls).toBe(2);
    await t.bringUp(1);
    expect(t.sup.state).toBe('ready');
  });
});

describe('helper supervisor: the failure cap (→ failed) and its reset', () => {
  it('marks the helper failed at the 5th failure within 5 minutes and spawns no more', async () => {
    const t = setup();
    const waiting = t.sup.ready(10 * 60_000).catch((err: { code?: string; message: string }) => err);
    for (let i = 0; i < 4; i++) await t.crash(i);
    t.helper(4).exit(1);
    await settle();
    expect(t.sup.state).toBe('failed');
    expect(t.sup.lastError).toBe('helper exited with code 1');
    expect(await waiting).toMatchObject({ code: 'helper_unavailable', message: /helper failed/ });
    t.sup.ensureRunning(); // wanting it is not enough: only a session event or a request retries
    await t.clock.advance(60 * 60_000);
    expect(t.spawner.calls).toBe(5);
    expect(t.sup.state).toBe('failed');
    expect(t.states).toEqual(['starting', 'failed']);
  });

  it('counts failures of a helper that was ready in between', async () => {
    const t = setup();
    t.sup.ensureRunning();
    for (let i = 0; i < 4; i++) await t.crash(i); // at 0, 0.5, 1.5 and 3.5 s
    await t.bringUp(4);
    await t.clock.advance(60_000);
    t.helper(4).exit(1);
    await settle();
    expect(t.sup.state).toBe('failed');
  });

  it('forgets a failure once it is older than the window', async () => {
    for (const [upMs, expected] of [
      // The failures came at 0, 0.5, 1.5 and 3.5 s; helper #4 is up at 7.5 s. At 300 s the first
      // has left the 5-minute window, 1 ms earlier it has not.
      [300_000 - 7500 - 1, 'failed'],
      [300_000 - 7500, 'starting'],
    ] as const) {
      const t = setup();
      t.sup.ensureRunning();
      for (let i = 0; i < 4; i++) await t.crash(i);
      expect(t.clock.now()).toBe(7500);
      await t.bringUp(4);
      await t.clock.advance(upMs);
      t.helper(4).exit(1);
      await settle();
      expect({ upMs, state: t.sup.state }).toEqual({ upMs, state: expected });
    }
  });

  it('retries a failed helper with a fresh round of attempts (failed → starting)', async () => {
    const t = setup();
    t.spawner.failNext = 5;
    t.sup.ensureRunning();
    await t.clock.advance(60_000);
    expect(t.sup.state).toBe('failed');
    expect(t.spawner.calls).toBe(5);
    t.sup.retry();
    await settle();
    expect(t.sup.state).toBe('starting');
    expect(t.spawner.calls).toBe(6);
    // A fresh round: the backoff starts over and four more failures are allowed.
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) delays.push(await t.crash(i));
    expect(delays).toEqual([500, 1000, 2000, 4000]);
    t.helper(4).exit(1);
    await settle();
    expect(t.sup.state).toBe('failed');
  });

  it('retries a failed helper for a request, and answers the request when it is ready', async () => {
    const t = setup();
    t.spawner.failNext = 5;
    t.sup.ensureRunning();
    await t.clock.advance(60_000);
    expect(t.sup.state).toBe('failed');
    const ready = t.sup.ready(30_000);
    await settle();
    expect(t.sup.state).toBe('starting');
    const link = await t.bringUp(0);
    await expect(ready).resolves.toBe(link);
    expect(t.sup.lastError).toBeUndefined();
  });
});

describe('helper supervisor: stop from any state → none', () => {
  it('sends shutdown and SIGTERM to a ready helper, and SIGKILL after the grace period if it stays', async () => {
    const t = setup();
    t.sup.ensureRunning();
    const link = await t.bringUp(0);
    let stopped = false;
    const stopping = t.sup.stop('session ended').then(() => (stopped = true));
    await settle();
    expect(link.sent).toEqual([{ type: 'shutdown', reason: 'session ended' }]);
    expect(t.helper(0).signals).toEqual(['SIGTERM']);
    await t.clock.advance(DEFAULT_POLICY.stopGraceMs - 1);
    expect(t.helper(0).signals).toEqual(['SIGTERM']);
    expect(stopped).toBe(false);
    await t.clock.advance(1);
    expect(t.helper(0).signals).toEqual(['SIGTERM', 'SIGKILL']);
    await stopping;
    expect(t.sup.state).toBe('none');
    expect(t.lost()).toBe(1);
    await t.clock.advance(60 * 60_000);
    expect(t.spawner.calls).toBe(1);
  });

  it('signals once when the helper closes its channel while it stops', async () => {
    // stop() and then the channel's close both sent SIGTERM: the second cut the helper's teardown short.
    const t = setup();
    t.sup.ensureRunning();
    const link = await t.bringUp(0);
    const stopping = t.sup.stop('service stopping');
    await settle();
    link.drop('peer closed');
    await settle();
    expect(t.helper(0).signals).toEqual(['SIGTERM']);
    t.helper(0).exit(0);
    await stopping;
    expect(t.helper(0).signals).toEqual(['SIGTERM']);
    expect(t.sup.state).toBe('none');
    expect(t.lost()).toBe(1);
  });

  it('sends no SIGKILL to a helper that exits when asked', async () => {
    const t = setup();
    t.sup.ensureRunning();
    await t.bringUp(0);
    const stopping = t.sup.stop('service stopping');
    await settle();
    t.helper(0).exit(0);
    await stopping;
    await t.clock.advance(DEFAULT_POLICY.stopGraceMs * 2);
    expect(t.helper(0).signals).toEqual(['SIGTERM']);
    expect(t.sup.state).toBe('none');
  });

  it('stops a helper still in its handshake, and rejects the requests waiting for it', async () => {
    const t = setup();
    const waiting = t.sup.ready(30_000).catch((err: { code?: string }) => err.code);
    await settle();
    const stopping = t.sup.stop('session ended');
    expect(await waiting).toBe('helper_unavailable');
    expect(t.helper(0).signals).toEqual(['SIGTERM']);
    await t.clock.advance(DEFAULT_POLICY.stopGraceMs);
    await stopping;
    expect(t.helper(0).signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(t.sup.state).toBe('none');
    await t.clock.advance(60_000);
    expect(t.spawner.calls).toBe(1);
  });

  it('cancels a respawn that waits out its backoff', async () => {
    const t = setup();
    t.sup.ensureRunning();
    t.helper(0).exit(1);
    await settle();
    expect(t.sup.state).toBe('starting');
    await t.sup.stop('session ended');
    expect(t.sup.state).toBe('none');
    await t.clock.advance(60_000);
    expect(t.spawner.calls).toBe(1);
  });

  it('kills the helper of a spawn that was still in flight when it stopped', async () => {
    const t = setup();
    let release!: () => void;
    t.spawner.hold = new Promise((r) => (release = r));
    t.sup.ensureRunning();
    await settle();
    await t.sup.stop('session ended');
    expect(t.sup.state).toBe('none');
    release();
    await settle();
    expect(t.helper(0).signals).toEqual(['SIGKILL']);
    expect(t.spawner.running).toEqual([]);
    expect(t.links.waiting).toEqual([]);
    expect(t.sup.state).toBe('none');
  });

  it('stops a failed helper without a signal (it has no process)', async () => {
    const t = setup();
    t.spawner.failNext = 5;
    t.sup.ensureRunning();
    await t.clock.advance(60_000);
    expect(t.sup.state).toBe('failed');
    await t.sup.stop('session ended');
    expect(t.sup.state).toBe('none');
  });

  it('can be started again after a stop (none → starting)', async () => {
    const t = setup();
    t.sup.ensureRunning();
    await t.bringUp(0);
    const stopping = t.sup.stop('session ended');
    t.helper(0).exit(0);
    await stopping;
    t.sup.ensureRunning();
    await settle();
    expect(t.sup.state).toBe('starting');
    expect(t.spawner.calls).toBe(2);
  });
});
