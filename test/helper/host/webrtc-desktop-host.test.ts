import { describe, expect, it } from 'vitest';
import { PortholeError } from '../../../src/errors/porthole-error.js';
import { WebRtcDesktopHost } from '../../../src/helper/host/webrtc-desktop-host.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { DesktopStart } from '../../../src/protocol/ipc.js';
import type { DesktopAuditEvent } from '../../../src/protocol/audit-event.js';
import { CUT_DELAY_MS } from '../../../src/helper/desktop/session-limits.js';
import { FakeClock, settle } from '../../fixtures/fake-clock.js';
import { createFakeDesktopPeer, type FakeDesktopPeer } from '../../fixtures/fake-desktop-peer.js';

/**
 * A host whose peers are fakes: each answer is made only when the test says so (`answerAll`), as a
 * real one waits for ICE gathering, so concurrent starts really overlap.
 */
function setup(opts: { maxConnections?: number } = {}) {
  const clock = new FakeClock();
  const audit: DesktopAuditEvent[] = [];
  const peers: FakeDesktopPeer[] = [];
  const waiting: (() => void)[] = [];
  const closed: [string, string][] = [];
  const host = new WebRtcDesktopHost({
    log: silentLogger,
    probe: () => Promise.resolve({ canCapture: true, displays: [] }),
    attach: () => ({ close: () => {} }),
    timers: clock,
    audit: (e) => audit.push(e),
    ...opts,
    createPeer: () =>
      new Promise((resolve) => {
        waiting.push(() => {
          const peer = createFakeDesktopPeer();
          peers.push(peer);
          resolve({ answer: `answer ${peers.length}`, peer });
        });
      }),
  });
  host.onClosed((id, why) => closed.push([id, why]));
  const answerAll = async (): Promise<void> => {
    await settle();
    for (const answer of waiting.splice(0)) answer();
    await settle();
  };
  const request = (id: string, viewer?: string): DesktopStart => ({
    type: 'desktop_start',
    sessionId: id,
    offer: 'v=0',
    iceServers: [],
    displayIndex: 0,
    ...(viewer ? { viewer: { name: viewer } } : {}),
  });
  /** Starts one desktop and answers it. */
  const start = async (id: string, viewer?: string): Promise<string | undefined> => {
    const started = host.start(request(id, viewer));
    await answerAll();
    return started;
  };
  return { clock, host, peers, closed, answerAll, request, start, audit };
}

/** The error a promise rejected with, as code and retryAfterMs. */
async function refusal(p: Promise<unknown>): Promise<{ code: string; retryAfterMs: number | undefined }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof PortholeError)) throw new Error(`expected a PortholeError, got ${String(err)}`);
  return { code: err.code, retryAfterMs: err.retryAfterMs };
}

describe('WebRtcDesktopHost capacity', () => {
  it('serves at most 8 desktops when 50 starts race, and refuses the rest with too_many_viewers', async () => {
    const { host, answerAll, request, peers } = setup();
    const starts = Array.from({ length: 50 }, (_, i) => host.start(request(`d${i}`)));
    const settled = Promise.allSettled(starts);
    await answerAll();
    const results = await settled;
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(8);
    expect(peers).toHaveLength(8);
    expect(host.activeConnections).toBe(8);
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as PortholeError] : []));
    expect(refused).toHaveLength(42);
    // All eight are still being answered: a slot frees by their deadline at the latest.
    expect(new Set(refused.map((e) => [e.code, e.retryAfterMs].join(' ')))).toEqual(
      new Set(['too_many_viewers 20000']),
    );
  });

  it('refuses a ninth desktop with a 30 s retry when all eight viewers are connected', async () => {
    const { host, start, answerAll, request, peers } = setup();
    for (let i = 0; i < 8; i++) await start(`d${i}`);
    for (const p of peers) p.setState('connected');
    const ninth = refusal(host.start(request('d8')));
    await answerAll();
    expect(await ninth).toEqual({ code: 'too_many_viewers', retryAfterMs: 30_000 });
  });

  it('drops a desktop whose viewer has not connected 20 s after the answer, and says why', async () => {
    const { clock, start, peers, closed, host } = setup();
    await start('abandoned');
    await start('used');
    await clock.advance(5000);
    peers[1]!.setState('connected');
    await clock.advance(14_999);
    expect(peers[0]!.closed).toBe(false);
    await clock.advance(1);
    expect(peers[0]!.closed).toBe(true);
    expect(closed).toEqual([['abandoned', 'not connected within 20000 ms']]);
    // A connected viewer stays, also through a network blip.
    peers[1]!.setState('disconnected');
    await clock.advance(60_000);
    expect(peers[1]!.closed).toBe(false);
    expect(host.activeConnections).toBe(1);
  });

  it('lets one viewer hold 2 desktops that have not connected; the third is rate_limited while others get in', async () => {
    const { clock, host, start, answerAll, request, peers } = setup();
    await start('m1', 'mallory');
    await clock.advance(5000);
    await start('m2', 'mallory');
    // Eight abandoned offers from one viewer used to lock everyone out; now six of them are refused.
    for (let i = 3; i <= 8; i++) {
      const more = refusal(host.start(request(`m${i}`, 'mallory')));
      await answerAll();
      // Its oldest pending desktop is dropped 15 s from now.
      expect(await more).toEqual({ code: 'rate_limited', retryAfterMs: 15_000 });
    }
    expect(await start('a1', 'alice')).toBe('answer 3');
    // Once one of its desktops connects, the viewer may start another.
    peers[0]!.setState('connected');
    expect(await start('m9', 'mallory')).toBe('answer 4');
  });

  it('never closes a connected viewer to make room for a new one', async () => {
    const { host, start, answerAll, request, peers } = setup({ maxConnections: 2 });
    await start('a', 'alice');
    peers[0]!.setState('connected');
    await start('b', 'bob');
    const third = refusal(host.start(request('c', 'carol')));
    await answerAll();
    expect((await third).code).toBe('too_many_viewers');
    expect(peers[0]!.closed).toBe(false);
    expect(peers[1]!.closed).toBe(false);
  });

  it('frees the slot and closes the late peer of a start stopped while its answer was made', async () => {
    const { host, answerAll, request, peers } = setup();
    const started = refusal(host.start(request('x')));
    await settle();
    expect(host.activeConnections).toBe(1);
    expect(await host.stop('x')).toBe(true);
    await answerAll();
    expect((await started).code).toBe('helper_unavailable');
    expect(peers[0]!.closed).toBe(true);
    expect(host.activeConnections).toBe(0);
  });

  it('frees the slot when the answer cannot be made', async () => {
    const host = new WebRtcDesktopHost({
      log: silentLogger,
      probe: () => Promise.resolve({ canCapture: true, displays: [] }),
      attach: () => ({ close: () => {} }),
      createPeer: () => Promise.reject(new PortholeError('bad_request', 'no H.264')),
    });
    const req: DesktopStart = {
      type: 'desktop_start',
      sessionId: 'x',
      offer: 'v=0',
      iceServers: [],
      displayIndex: 0,
    };
    expect((await refusal(host.start(req))).code).toBe('bad_request');
    expect(host.activeConnections).toBe(0);
  });
});

describe('WebRtcDesktopHost session limits (desktop_start.limits)', () => {
  it('warns the viewer, then cuts the desktop, reports session_cut and closes it', async () => {
    const { host, request, answerAll, peers, clock, closed, audit } = setup();
    const started = host.start({ ...request('d1'), limits: { maxSessionMs: 60_000, warnMs: 10_000 } });
    await answerAll();
    await started;
    const peer = peers[0]!;
    await clock.advance(10_000); // not connected yet: the length is counted from the connection
    peer.setState('connected');
    await clock.advance(50_000);
    expect(peer.sentControl).toEqual([{ type: 'session_limit', reason: 'max_length', remainingMs: 10_000 }]);
    await clock.advance(10_000 + CUT_DELAY_MS);
    expect(peer.sentControl.at(-1)).toEqual({ type: 'session_limit', reason: 'max_length', remainingMs: 0 });
    expect(audit).toEqual([{ kind: 'session_cut', desktop: 'd1', reason: 'max_length' }]);
    expect(closed).toEqual([['d1', 'cut by policy: max_length']]);
    expect(peer.closed).toBe(true);
    expect(host.activeConnections).toBe(0);
  });

  it('counts input and a display switch as actions, heartbeats not', async () => {
    const { host, request, answerAll, peers, clock, audit } = setup();
    const started = host.start({ ...request('d1'), limits: { idleMs: 10_000, warnMs: 0 } });
    await answerAll();
    await started;
    const peer = peers[0]!;
    peer.setState('connected');
    await clock.advance(9000);
    peer.input({ type: 'pointer_move', x: 0.5, y: 0.5 });
    await clock.advance(9000);
    peer.control({ type: 'select_display', index: 0 });
    await clock.advance(9000);
    for (let i = 0; i < 5; i++) peer.control({ type: 'heartbeat' });
    expect(audit).toEqual([]);
    await clock.advance(1000 + CUT_DELAY_MS);
    expect(audit).toEqual([{ kind: 'session_cut', desktop: 'd1', reason: 'idle' }]);
  });

  it('counts a file transfer moving bytes as activity; once it stalls, the desktop is cut as idle', async () => {
    const { host, request, answerAll, peers, clock, audit } = setup();
    const started = host.start({ ...request('d1'), limits: { idleMs: 10_000, warnMs: 2000 } });
    await answerAll();
    await started;
    const peer = peers[0]!;
    peer.setState('connected');
    // 60 s of chunks with no input at all: never warned, never cut.
    for (let i = 0; i < 60; i++) {
      await clock.advance(1000);
      host.noteActivity('d1');
    }
    expect(audit).toEqual([]);
    expect(peer.sentControl).toEqual([]);
    host.noteActivity('another desktop'); // unknown: ignored
    await clock.advance(10_000 + CUT_DELAY_MS);
    expect(audit).toEqual([{ kind: 'session_cut', desktop: 'd1', reason: 'idle' }]);
  });

  it('stops the limits when the desktop is stopped first', async () => {
    const { host, request, answerAll, peers, clock, audit } = setup();
    const started = host.start({ ...request('d1'), limits: { maxSessionMs: 5000, warnMs: 0 } });
    await answerAll();
    await started;
    peers[0]!.setState('connected');
    await host.stop('d1');
    await clock.advance(60_000);
    expect(audit).toEqual([]);
    expect(clock.pending).toEqual([]);
  });
});
