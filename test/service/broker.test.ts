/**
 * The session broker with a fake session detector, spawner, link and clock: when it spawns, where a
 * desktop request goes, and what a session's end does to its helper. The supervisor's own state
 * machine is in helper-supervisor.test.ts; real processes in service-process.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StartDesktop } from '../../src/protocol/api.js';
import { silentLogger, type Logger } from '../../src/log/logger.js';
import { SessionBroker, type BrokerOptions } from '../../src/service/broker.js';
import { DEFAULT_POLICY } from '../../src/service/helper-supervisor.js';
import { FakeSessionDetector } from '../../src/service/sessions/fake-session-detector.js';
import type { DetectedSession } from '../../src/service/sessions/session-detector.js';
import { FakeHelperSpawner, type FakeHelperContext } from '../../src/service/spawn/fake-helper-spawner.js';
import { FakeClock, settle } from '../fixtures/fake-clock.js';
import { DEFAULT_ACCESS_POLICY } from '../../src/service/access-policy.js';
import { helperConsentPrompter } from '../../src/service/consent/helper-consent-prompter.js';
import type { DesktopAuditEvent } from '../../src/protocol/audit-event.js';
import { capabilities, defaultAnswer, FakeLinks, type FakeHelperLink } from './fake-helper-link.js';

const user = (
  sessionId: number,
  username: string,
  extra: Partial<DetectedSession> = {},
): DetectedSession => ({
  sessionId,
  username,
  state: 'active',
  type: 'x11',
  console: false,
  ...extra,
});
const alice = user(1, 'alice', { console: true, type: 'console' });
const bob = user(2, 'bob', { type: 'rdp' });
const loginScreen = user(1, '', { console: true, type: 'console' });

const desktop = (sessionId: string, extra: Partial<StartDesktop> = {}): StartDesktop => ({
  sessionId,
  offer: 'v=0',
  iceServers: [],
  ...extra,
});

/** A settled promise's outcome: its value, or the code of its error; 'pending' if not settled yet. */
async function outcome<T>(p: Promise<T>): Promise<T | string> {
  const tagged = p.then(
    (v) => v,
    (err: { code?: string }) => `error ${err.code}`,
  );
  await settle();
  return Promise.race([tagged, Promise.resolve('pending')]);
}

const brokers: SessionBroker[] = [];
afterEach(async () => {
  // Leave no supervisor waiting on a fake clock nobody advances.
  for (const b of brokers.splice(0)) void b.stop();
  await settle();
});

async function setup(
  sessions: DetectedSession[] = [alice],
  opts: Partial<
    Pick<
      BrokerOptions,
      | 'spawnOnLogon'
      | 'affinity'
      | 'policy'
      | 'log'
      | 'secureAttention'
      | 'onAudit'
      | 'access'
      | 'audio'
      | 'consentPrompter'
    >
  > = {},
) {
  const clock = new FakeClock();
  const detector = new FakeSessionDetector(sessions);
  const spawner = new FakeHelperSpawner();
  const links = new FakeLinks();
  const broker = new SessionBroker({
    detector,
    spawner,
    openLink: links.open,
    log: silentLogger,
    timers: clock,
    random: () => 1,
    ...opts,
  });
  brokers.push(broker);
  await broker.start();
  await settle();

  const helpersOf = (sessionId: number): FakeHelperContext[] =>
    spawner.spawned.filter((h) => h.session.sessionId === sessionId);
  /** The latest helper of a session. */
  const helperOf = (sessionId: number): FakeHelperContext => {
    const h = helpersOf(sessionId).at(-1);
    if (!h) throw new Error(`no helper for session ${sessionId}`);
    return h;
  };
  /** Completes the latest helper's handshake and reports its capabilities. */
  const bringUp = async (sessionId: number, caps = capabilities(sessionId)): Promise<FakeHelperLink> => {
    await settle();
    const link = links.accept(helperOf(sessionId).helperId);
    await settle();
    link.emit(caps);
    await settle();
    return link;
  };
  const stateOf = (sessionId: number) => broker.listSessions().find((s) => s.sessionId === sessionId);
  return { clock, detector, spawner, links, broker, helpersOf, helperOf, bringUp, stateOf };
}

describe('session broker: when it spawns (none → starting)', () => {
  it('spawns a helper for every session there at start', async () => {
    const t = await setup([alice, bob]);
    expect(t.spawner.calls).toBe(2);
    expect(t.spawner.spawned.map((h) => h.session.sessionId).sort()).toEqual([1, 2]);
    expect(t.broker.listSessions().map((s) => s.helperState)).toEqual(['starting', 'starting']);
  });

  it('spawns a helper when a user logs on', async () => {
    const t = await setup([alice]);
    t.detector.add(bob);
    await settle();
    expect(t.helpersOf(2)).toHaveLength(1);
    expect(t.stateOf(2)?.helperState).toBe('starting');
  });

  it('with spawnOnLogon off, spawns only into the login screen until a desktop is asked for', async () => {
    const t = await setup([loginScreen, bob], { spawnOnLogon: false });
    expect(t.spawner.spawned.map((h) => h.session.sessionId)).toEqual([1]);
    t.detector.add(user(3, 'carol'));
    await settle();
    expect(t.spawner.calls).toBe(1);
    expect(t.stateOf(3)?.helperState).toBe('none');

    const started = t.broker.startDesktop(desktop('d1', { targetSessionId: 3 }));
    await settle();
    expect(t.stateOf(3)?.helperState).toBe('starting');
    await t.bringUp(3);
    await expect(started).resolves.toEqual({ sessionId: 'd1', answer: 'answer for d1' });
  });

  it('reports each session with its helper’s state and, while not ready, its last error', async () => {
    const t = await setup([alice, bob]);
    await t.bringUp(1);
    t.helperOf(2).exit(2);
    await settle();
    expect(t.broker.listSessions()).toEqual([
      {
        sessionId: 1,
        username: 'alice',
        state: 'active',
        type: 'console',
        helperConnected: true,
        helperState: 'ready',
      },
      {
        sessionId: 2,
        username: 'bob',
        state: 'active',
        type: 'rdp',
        helperConnected: false,
        helperState: 'starting',
        lastError: 'helper exited with code 2',
      },
    ]);
    expect(t.broker.helperPid(1)).toBe(t.helperOf(1).pid);
    expect(t.broker.helperPid(2)).toBeUndefined();
  });
});

describe('session broker: desktop requests', () => {
  it('sends start_desktop to the session’s helper once it is ready, and returns its answer', async () => {
    const t = await setup([alice]);
    const started = t.broker.startDesktop(desktop('d1', { targetSessionId: 1, displayIndex: 0 }));
    expect(await outcome(started)).toBe('pending');
    const link = await t.bringUp(1);
    await expect(started).resolves.toEqual({ sessionId: 'd1', answer: 'answer for d1' });
    expect(link.sent).toEqual([
      { type: 'desktop_start', sessionId: 'd1', offer: 'v=0', iceServers: [], displayIndex: 0 },
    ]);
  });

  it('passes the viewer who asks on to the helper’s desktop_start', async () => {
    const t = await setup([alice]);
    const started = t.broker.startDesktop(desktop('d1', { targetSessionId: 1, viewer: { name: 'carol' } }));
    const link = await t.bringUp(1);
    await started;
    expect(link.sent).toEqual([
      {
        type: 'desktop_start',
        sessionId: 'd1',
        offer: 'v=0',
        iceServers: [],
        displayIndex: 0,
        viewer: { name: 'carol' },
      },
    ]);
  });

  it('passes a view-only viewer’s permissions on to the helper’s desktop_start', async () => {
    const t = await setup([alice]);
    const permissions = { control: false, files: false };
    const started = t.broker.startDesktop(desktop('d1', { targetSessionId: 1, permissions }));
    const link = await t.bringUp(1);
    await started;
    expect(link.sent).toEqual([
      { type: 'desktop_start', sessionId: 'd1', offer: 'v=0', iceServers: [], displayIndex: 0, permissions },
    ]);
  });

  it('passes a relay target (no offer) on to the helper and answers transport "websocket"', async () => {
    const t = await setup([alice]);
    const link = await t.bringUp(1);
    link.answer = (body) =>
      body.type === 'desktop_start'
        ? { type: 'desktop_started', sessionId: body.sessionId }
        : defaultAnswer(body);
    const relay = { url: 'ws://127.0.0.1:1/api/relay/agent', ticket: `0a.${'x'.repeat(43)}` };
    const { offer: _offer, ...noOffer } = desktop('d1', { targetSessionId: 1 });
    await expect(t.broker.startDesktop({ ...noOffer, relay })).resolves.toEqual({
      sessionId: 'd1',
      transport: 'websocket',
    });
    expect(link.sent).toEqual([
      { type: 'desktop_start', sessionId: 'd1', relay, iceServers: [], displayIndex: 0 },
    ]);
  });

  it('refuses a helper that answers a relayed desktop with an SDP answer, or an offer without one', async () => {
    const t = await setup([alice]);
    const link = await t.bringUp(1);
    const relay = { url: 'ws://127.0.0.1:1/api/relay/agent', ticket: `0a.${'x'.repeat(43)}` };
    const { offer: _offer, ...noOffer } = desktop('d1', { targetSessionId: 1 });
    await expect(t.broker.startDesktop({ ...noOffer, relay })).rejects.toMatchObject({ code: 'internal' });
    link.answer = (body) =>
      body.type === 'desktop_start'
        ? { type: 'desktop_started', sessionId: body.sessionId }
        : defaultAnswer(body);
    await expect(t.broker.startDesktop(desktop('d2', { targetSessionId: 1 }))).rejects.toMatchObject({
      code: 'internal',
    });
  });

  it('has requests that arrive during a spawn share that one helper', async () => {
    const t = await setup([alice], { spawnOnLogon: false });
    let release!: () => void;
    t.spawner.hold = new Promise((r) => (release = r));
    const a = t.broker.startDesktop(desktop('d1', { targetSessionId: 1 }));
    await settle();
    const b = t.broker.startDesktop(desktop('d2', { targetSessionId: 1 })); // CreateProcess still running
    release();
    await settle();
    const c = t.broker.startDesktop(desktop('d3')); // the handshake under way
    await t.bringUp(1);
    expect((await Promise.all([a, b, c])).map((r) => r.sessionId)).toEqual(['d1', 'd2', 'd3']);
    expect(t.spawner.calls).toBe(1);
  });

  it('sends a request without a target to the first affinity user with a live session', async () => {
    const t = await setup([alice, bob, user(3, 'carol', { state: 'disconnected' })], {
      spawnOnLogon: false,
      affinity: ['carol', 'bob'],
    });
    const started = t.broker.startDesktop(desktop('d1'));
    await settle();
    expect(t.spawner.spawned.map((h) => h.session.sessionId)).toEqual([2]);
    await t.bringUp(2);
    await expect(started).resolves.toMatchObject({ sessionId: 'd1' });
  });

  it('sends a request without a target to the console session when no affinity user is there', async () => {
    const t = await setup([bob, alice], { spawnOnLogon: false, affinity: ['dave'] });
    expect(t.broker.defaultTarget()).toBe(1);
    void t.broker.startDesktop(desktop('d1')).catch(() => undefined);
    await settle();
    expect(t.spawner.spawned.map((h) => h.session.sessionId)).toEqual([1]);
  });

  it('answers no_such_session for a machine without sessions and for an unknown target', async () => {
    const empty = await setup([]);
    expect(await outcome(empty.broker.startDesktop(desktop('d1')))).toBe('error no_such_session');
    const t = await setup([alice]);
    expect(await outcome(t.broker.startDesktop(desktop('d1', { targetSessionId: 7 })))).toBe(
      'error no_such_session',
    );
    expect(t.spawner.calls).toBe(1); // alice's, at start
  });

  it('answers helper_unavailable when the helper cannot capture its session', async () => {
    const t = await setup([alice]);
    const started = t.broker.startDesktop(desktop('d1', { targetSessionId: 1 })).catch((err: unknown) => err);
    const link = await t.bringUp(1, capabilities(1, { canCapture: false, reason: 'no X display' }));
    expect(await started).toMatchObject({ code: 'helper_unavailable', message: /no X display/ });
    expect(link.sent).toEqual([]);
  });

  it('answers bad_request for a display the session does not have', async () => {
    const t = await setup([alice]);
    await t.bringUp(1);
    await expect(
      t.broker.startDesktop(desktop('d1', { targetSessionId: 1, displayIndex: 1 })),
    ).rejects.toMatchObject({ code: 'bad_request' });
  });

  it('answers timeout when no helper is ready within the ready timeout', async () => {
    const t = await setup([alice], { policy: { readyTimeoutMs: 5000 } });
    const started = t.broker.startDesktop(desktop('d1', { targetSessionId: 1 }));
    await t.clock.advance(4999);
    expect(await outcome(started)).toBe('pending');
    await t.clock.advance(1);
    expect(await outcome(started)).toBe('error timeout');
  });

  it('stops a desktop on its helper, and the previous one first when a desktop id is reused', async () => {
    const t = await setup([alice]);
    const link = await t.bringUp(1);
    await t.broker.startDesktop(desktop('d1', { targetSessionId: 1 }));
    await t.broker.startDesktop(desktop('d1', { targetSessionId: 1 }));
    await expect(t.broker.stopDesktop({ sessionId: 'd1' })).resolves.toEqual({
      sessionId: 'd1',
      stopped: true,
    });
    expect(link.sent.map((m) => m.type)).toEqual([
      'desktop_start',
      'desktop_stop',
      'desktop_start',
      'desktop_stop',
    ]);
    await expect(t.broker.stopDesktop({ sessionId: 'd1' })).resolves.toEqual({
      sessionId: 'd1',
      stopped: false,
    });
  });

  it('forgets a desktop the helper reports closed', async () => {
    const t = await setup([alice]);
    const link = await t.bringUp(1);
    await t.broker.startDesktop(desktop('d1', { targetSessionId: 1 }));
    link.emit({ type: 'event', name: 'desktop_closed', sessionId: 'd1' });
    await expect(t.broker.stopDesktop({ sessionId: 'd1' })).resolves.toMatchObject({ stopped: false });
    expect(link.sent.map((m) => m.type)).toEqual(['desktop_start']);
  });
});

describe('session broker: helpers lost, failed and retried', () => {
  it('forgets the desktops of a ready helper that exits, and respawns it after the backoff', async () => {
    const t = await setup([alice]);
    await t.bringUp(1);
    await t.broker.startDesktop(desktop('d1', { targetSessionId: 1 }));
    t.helperOf(1).exit(1);
    await settle();
    expect(t.stateOf(1)?.helperState).toBe('starting');
    await expect(t.broker.stopDesktop({ sessionId: 'd1' })).resolves.toMatchObject({ stopped: false });
    await t.clock.advance(499);
    expect(t.helpersOf(1)).toHaveLength(1);
    await t.clock.advance(1);
    expect(t.helpersOf(1)).toHaveLength(2);
  });

  it('retries a failed helper on the session’s next event (failed → starting)', async () => {
    const t = await setup([alice]);
    t.spawner.failNext = 4;
    t.helperOf(1).exit(1); // the 1st failure; the next 4 spawns fail too
    await t.clock.advance(60_000);
    expect(t.stateOf(1)).toMatchObject({ helperState: 'failed', lastError: 'fake spawn failure' });
    expect(t.spawner.calls).toBe(5);
    t.detector.update(1, { state: 'locked' });
    await settle();
    expect(t.stateOf(1)?.helperState).toBe('starting');
    expect(t.spawner.calls).toBe(6);
  });

  it('retries a failed helper for a desktop request, and serves the request', async () => {
    const t = await setup([alice]);
    t.spawner.failNext = 4;
    t.helperOf(1).exit(1);
    await t.clock.advance(60_000);
    expect(t.stateOf(1)?.helperState).toBe('failed');
    const started = t.broker.startDesktop(desktop('d1', { targetSessionId: 1 }));
    await settle();
    expect(t.stateOf(1)?.helperState).toBe('starting');
    await t.bringUp(1);
    await expect(started).resolves.toMatchObject({ sessionId: 'd1' });
    expect(t.stateOf(1)?.lastError).toBeUndefined();
  });
});

describe('session broker: logoff and stop → none', () => {
  it('on logoff asks the helper to shut down, then kills it after the grace period', async () => {
    const t = await setup([alice, bob]);
    const link = await t.bringUp(1);
    await t.bringUp(2);
    await t.broker.startDesktop(desktop('d1', { targetSessionId: 1 }));
    t.detector.remove(1);
    await settle();
    expect(link.sent.at(-1)).toEqual({ type: 'shutdown', reason: 'session ended' });
    expect(t.helperOf(1).signals).toEqual(['SIGTERM']);
    expect(t.broker.listSessions().map((s) => s.sessionId)).toEqual([2]);
    await expect(t.broker.stopDesktop({ sessionId: 'd1' })).resolves.toMatchObject({ stopped: false });
    await t.clock.advance(DEFAULT_POLICY.stopGraceMs - 1);
    expect(t.helperOf(1).signals).toEqual(['SIGTERM']);
    await t.clock.advance(1);
    expect(t.helperOf(1).signals).toEqual(['SIGTERM', 'SIGKILL']);
    await t.clock.advance(60 * 60_000);
    expect(t.helpersOf(1)).toHaveLength(1);
    expect(t.helperOf(2).signals).toEqual([]);
  });

  it('on logoff cancels a respawn that waits out its backoff', async () => {
    const t = await setup([alice]);
    t.helperOf(1).exit(1);
    await settle();
    expect(t.stateOf(1)?.helperState).toBe('starting');
    t.detector.remove(1);
    await t.clock.advance(60 * 60_000);
    expect(t.spawner.calls).toBe(1);
  });

  it('on stop stops every helper (SIGKILL for one that stays) and refuses new desktops', async () => {
    const t = await setup([alice, bob]);
    await t.bringUp(1);
    await t.bringUp(2);
    let stopped = false;
    const stopping = t.broker.stop().then(() => (stopped = true));
    await settle();
    expect(t.helperOf(1).signals).toEqual(['SIGTERM']);
    expect(t.helperOf(2).signals).toEqual(['SIGTERM']);
    t.helperOf(1).exit(0); // alice's helper exits when asked, bob's does not
    await t.clock.advance(DEFAULT_POLICY.stopGraceMs - 1);
    expect(stopped).toBe(false);
    await t.clock.advance(1);
    await stopping;
    expect(t.helperOf(1).signals).toEqual(['SIGTERM']);
    expect(t.helperOf(2).signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(t.spawner.running).toEqual([]);
    expect(await outcome(t.broker.startDesktop(desktop('d1', { targetSessionId: 1 })))).toBe(
      'error helper_unavailable',
    );
    t.detector.add(user(3, 'carol')); // the detector is stopped: no event, no spawn
    await settle();
    expect(t.spawner.calls).toBe(2);
  });
});

describe('session broker: what a helper may write into the service log', () => {
  it('forwards a flood of helper log lines up to its budget, then one summary per window', async () => {
    const lines: { level: string; fields: object; msg: string | undefined }[] = [];
    const recorder = (bindings: object): Logger => {
      const at =
        (level: string) =>
        (obj: object, msg?: string): void => {
          lines.push({ level, fields: { ...bindings, ...obj }, msg });
        };
      return {
        debug: at('debug'),
        info: at('info'),
        warn: at('warn'),
        error: at('error'),
        child: (more) => recorder({ ...bindings, ...more }),
      };
    };
    const t = await setup([alice], { log: recorder({}) });
    const link = await t.bringUp(1);
    const before = lines.length;
    for (let i = 0; i < 2000; i++) link.emit({ type: 'log', level: 'warn', msg: 'hostile', fields: { i } });
    await settle();
    const forwarded = lines.slice(before).filter((l) => l.msg === 'hostile');
    expect(forwarded).toHaveLength(50);
    expect(forwarded[0]?.fields).toMatchObject({ sessionId: 1, from: 'helper', i: 0 });
    await t.clock.advance(10_000);
    const summary = lines.find((l) => l.msg === '1950 more log lines suppressed');
    expect(summary?.fields).toMatchObject({ sessionId: 1, from: 'helper', suppressed: 1950 });
  });
});

describe('session broker: Ctrl+Alt+Del, the one input action that passes through the service', () => {
  /** A sender that records the sessions it was asked to send the sequence into. */
  const recordingSender = () => {
    const sessions: number[] = [];
    return {
      sessions,
      send: (sessionId: number) => (sessions.push(sessionId), { outcome: 'sent' as const }),
    };
  };

  it('sends it into the session the asking helper was spawned into, never another', async () => {
    const sender = recordingSender();
    const t = await setup([alice, bob], { secureAttention: sender });
    const bobLink = await t.bringUp(2);
    await expect(bobLink.ask({ type: 'secure_attention' })).resolves.toEqual({
      type: 'secure_attention_result',
      outcome: 'sent',
    });
    expect(sender.sessions).toEqual([2]);
  });

  it('lets one request per session through every 5 s, each session on its own budget', async () => {
    const sender = recordingSender();
    const t = await setup([alice, bob], { secureAttention: sender });
    const a = await t.bringUp(1);
    const b = await t.bringUp(2);
    await a.ask({ type: 'secure_attention' });
    await t.clock.advance(1000);
    await expect(a.ask({ type: 'secure_attention' })).resolves.toEqual({
      type: 'secure_attention_result',
      outcome: 'rate_limited',
      reason: 'at most one Ctrl+Alt+Del every 5 s',
      retryAfterMs: 4000,
    });
    await expect(b.ask({ type: 'secure_attention' })).resolves.toMatchObject({ outcome: 'sent' });
    await t.clock.advance(4000);
    await expect(a.ask({ type: 'secure_attention' })).resolves.toMatchObject({ outcome: 'sent' });
    expect(sender.sessions).toEqual([1, 2, 1]);
  });

  it('keeps the budget across a respawn of the session’s helper', async () => {
    const sender = recordingSender();
    const t = await setup([alice], { secureAttention: sender });
    const first = await t.bringUp(1);
    await first.ask({ type: 'secure_attention' });
    t.helperOf(1).exit(1);
    await t.clock.advance(1000); // the respawn's backoff
    const second = await t.bringUp(1);
    await expect(second.ask({ type: 'secure_attention' })).resolves.toMatchObject({
      outcome: 'rate_limited',
    });
    expect(sender.sessions).toEqual([1]);
  });

  it('answers unsupported with the reason where nothing can send it (Linux), and never throws', async () => {
    const t = await setup([alice]);
    const link = await t.bringUp(1);
    await expect(link.ask({ type: 'secure_attention' })).resolves.toEqual({
      type: 'secure_attention_result',
      outcome: 'unsupported',
      reason: 'Ctrl+Alt+Del exists only on Windows',
    });
  });

  it('answers a helper that is not ready yet helper_unavailable, and any other request bad_request', async () => {
    const sender = recordingSender();
    const t = await setup([alice], { secureAttention: sender });
    await settle();
    const link = t.links.accept(t.helperOf(1).helperId); // handshake done, no capabilities yet
    await settle();
    await expect(link.ask({ type: 'secure_attention' })).rejects.toMatchObject({
      code: 'helper_unavailable',
    });
    link.emit(capabilities(1));
    await settle();
    await expect(link.ask({ type: 'desktop_stopped', sessionId: 'd1', existed: true })).rejects.toMatchObject(
      { code: 'bad_request', message: 'desktop_stopped is not a request' },
    );
    expect(sender.sessions).toEqual([]);
  });
});

describe('session broker: audit events from helpers', () => {
  const event = (i: number) =>
    ({
      kind: 'file_transfer',
      desktop: 'd1',
      direction: 'upload',
      name: `f${i}.txt`,
      size: i,
      outcome: 'complete',
    }) as const;

  it('passes a helper’s audit event on with the session it spawned that helper into', async () => {
    const got: [number, unknown][] = [];
    const t = await setup([alice], { onAudit: (sessionId, e) => got.push([sessionId, e]) });
    const link = await t.bringUp(1);
    link.emit({ type: 'audit', event: event(1) });
    await settle();
    expect(got).toEqual([[1, event(1)]]);
  });

  it('passes at most 120 a minute per session on, then again in the next minute', async () => {
    const got: unknown[] = [];
    const t = await setup([alice], { onAudit: (_s, e) => got.push(e) });
    const link = await t.bringUp(1);
    for (let i = 0; i < 500; i++) link.emit({ type: 'audit', event: event(i) });
    await settle();
    expect(got).toHaveLength(120);
    await t.clock.advance(60_000);
    link.emit({ type: 'audit', event: event(999) });
    await settle();
    expect(got).toHaveLength(121);
  });
});

describe('session broker: consent and limits (access policy)', () => {
  const consentAnswer = (outcome: 'accepted' | 'denied') => (body: { type: string; sessionId?: string }) =>
    body.type === 'consent_prompt'
      ? ({ type: 'consent_answer', outcome } as const)
      : {
          type: 'desktop_started' as const,
          sessionId: body.sessionId!,
          answer: `answer for ${body.sessionId}`,
        };

  async function attended(outcome: 'accepted' | 'denied') {
    const audit: DesktopAuditEvent[] = [];
    const t = await setup([alice], {
      access: { ...DEFAULT_ACCESS_POLICY, consent: 'always', consentTimeoutMs: 20_000 },
      consentPrompter: helperConsentPrompter,
      onAudit: (_s, e) => audit.push(e),
    });
    const link = await t.bringUp(1);
    link.answer = consentAnswer(outcome) as typeof link.answer;
    const waited: number[] = [];
    const started = t.broker.startDesktop(
      desktop('d1', {
        targetSessionId: 1,
        viewer: { name: 'carol' },
        permissions: { control: true, files: false },
      }),
      { onWaiting: (ms) => waited.push(ms) },
    );
    return { t, link, started, audit, waited };
  }

  it('asks the session’s helper first, and sends desktop_start only once the user accepted', async () => {
    const { link, started, audit, waited } = await attended('accepted');
    await expect(started).resolves.toEqual({ sessionId: 'd1', answer: 'answer for d1' });
    expect(waited).toEqual([20_000]);
    expect(link.sent.map((b) => b.type)).toEqual(['consent_prompt', 'desktop_start']);
    expect(link.sent[0]).toEqual({
      type: 'consent_prompt',
      viewer: 'carol',
      asks: { control: true, files: false },
      timeoutMs: 20_000,
    });
    expect(audit).toEqual([{ kind: 'consent', desktop: 'd1', outcome: 'accepted' }]);
  });

  it('never sends desktop_start when the user denied, and answers consent_denied', async () => {
    const { link, started, audit } = await attended('denied');
    await expect(started).rejects.toMatchObject({ code: 'consent_denied' });
    expect(link.sent.map((b) => b.type)).toEqual(['consent_prompt']);
    expect(audit).toEqual([{ kind: 'consent', desktop: 'd1', outcome: 'denied' }]);
  });

  it('passes the length and idle limits on to the helper’s desktop_start', async () => {
    const t = await setup([alice], {
      access: {
        ...DEFAULT_ACCESS_POLICY,
        maxSessionMs: 3_600_000,
        idleTimeoutMs: 600_000,
        limitWarningMs: 30_000,
      },
    });
    const link = await t.bringUp(1);
    await t.broker.startDesktop(desktop('d1', { targetSessionId: 1 }));
    expect(link.sent).toEqual([
      {
        type: 'desktop_start',
        sessionId: 'd1',
        offer: 'v=0',
        iceServers: [],
        displayIndex: 0,
        limits: { maxSessionMs: 3_600_000, idleMs: 600_000, warnMs: 30_000 },
      },
    ]);
  });

  it('asks the helper to block local input (access.blockLocalInput) for a controlling viewer only', async () => {
    const t = await setup([alice], { access: { ...DEFAULT_ACCESS_POLICY, blockLocalInput: true } });
    const link = await t.bringUp(1);
    await t.broker.startDesktop(desktop('d1', { targetSessionId: 1 }));
    await t.broker.startDesktop(
      desktop('d2', { targetSessionId: 1, permissions: { control: false, files: false } }),
    );
    expect(link.sent.map((b) => (b as { blockLocalInput?: true }).blockLocalInput)).toEqual([
      true,
      undefined,
    ]);
    const off = await setup([alice], { access: DEFAULT_ACCESS_POLICY });
    const offLink = await off.bringUp(1);
    await off.broker.startDesktop(desktop('d1', { targetSessionId: 1 }));
    expect(offLink.sent[0]).not.toHaveProperty('blockLocalInput');
  });

  it('tells the helper a desktop carries no sound when the audio policy is off, and nothing otherwise', async () => {
    const off = await setup([alice], { audio: { enabled: false } });
    const offLink = await off.bringUp(1);
    await off.broker.startDesktop(desktop('d1', { targetSessionId: 1 }));
    expect(offLink.sent[0]).toMatchObject({ type: 'desktop_start', audio: false });
    const on = await setup([alice], { audio: { enabled: true } });
    const onLink = await on.bringUp(1);
    await on.broker.startDesktop(desktop('d1', { targetSessionId: 1 }));
    expect(onLink.sent[0]).not.toHaveProperty('audio');
  });

  it('refuses to run an attended policy without a prompter', async () => {
    await expect(setup([alice], { access: { ...DEFAULT_ACCESS_POLICY, consent: 'always' } })).rejects.toThrow(
      /no prompter/,
    );
  });
});
