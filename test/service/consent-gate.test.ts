/**
 * The consent gate as a state machine, with a prompter the test answers and a fake clock: when it
 * asks, what each answer comes to (and its audit event), how long an acceptance holds for the viewer's
 * reconnects, and the bounds that keep a viewer from flooding the person at the machine with prompts.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import { DEFAULT_ACCESS_POLICY, type AccessPolicy } from '../../src/service/access-policy.js';
import {
  ConsentGate,
  DENIED_QUIET_MS,
  MAX_PROMPTS_PER_SESSION,
  UNNAMED_VIEWER,
  type ConsentCheck,
  type ConsentQuestion,
  type PromptAnswer,
} from '../../src/service/consent/consent-gate.js';
import { FULL_CONTROL, VIEW_ONLY } from '../../src/protocol/ipc.js';
import type { DesktopAuditEvent } from '../../src/protocol/audit-event.js';
import { FakeClock, settle } from '../fixtures/fake-clock.js';

/** A prompter whose prompts stay open until the test answers them. */
class TestPrompter {
  readonly asked: ConsentQuestion[] = [];
  private readonly answers: ((a: PromptAnswer) => void)[] = [];
  ask = (q: ConsentQuestion): Promise<PromptAnswer> => {
    this.asked.push(q);
    return new Promise((resolve) => this.answers.push(resolve));
  };
  /** Answers the oldest open prompt. */
  answer(a: PromptAnswer): void {
    const next = this.answers.shift();
    if (!next) throw new Error('no prompt is open');
    next(a);
  }
}

const helper = {
  request: () => Promise.reject(new Error('the gate itself never talks to the helper')),
};

function setup(policy: Partial<AccessPolicy> = {}) {
  const clock = new FakeClock();
  const prompter = new TestPrompter();
  const audit: { sessionId: number; event: DesktopAuditEvent }[] = [];
  const gate = new ConsentGate({
    policy: { ...DEFAULT_ACCESS_POLICY, consent: 'always', ...policy },
    prompter,
    log: silentLogger,
    timers: clock,
    onAudit: (sessionId, event) => audit.push({ sessionId, event }),
  });
  const check = (desktop: string, extra: Partial<ConsentCheck> = {}): ConsentCheck => ({
    sessionId: 1,
    session: { state: 'active', username: 'alice' },
    desktop,
    viewer: 'bob',
    asks: FULL_CONTROL,
    helper,
    ...extra,
  });
  return { clock, prompter, audit, gate, check };
}

/** The outcome of a promise once everything ready has run: 'admitted', its error code, or 'pending'. */
async function state(p: Promise<void>): Promise<string> {
  let s = 'pending';
  p.then(
    () => (s = 'admitted'),
    (err: { code?: string }) => (s = err.code ?? 'error'),
  );
  await settle();
  return s;
}

describe('whether the gate asks', () => {
  it('never asks under `never`', async () => {
    const { gate, prompter, check } = setup({ consent: 'never' });
    expect(await state(gate.admit(check('d1')))).toBe('admitted');
    expect(prompter.asked).toEqual([]);
  });

  it('under `when-user-present` asks in an active user session, not at a login screen or a locked one', async () => {
    const { gate, prompter, check } = setup({ consent: 'when-user-present' });
    expect(await state(gate.admit(check('d1', { session: { state: 'active', username: '' } })))).toBe(
      'admitted',
    );
    expect(await state(gate.admit(check('d2', { session: { state: 'locked', username: 'alice' } })))).toBe(
      'admitted',
    );
    expect(prompter.asked).toEqual([]);
    const p = gate.admit(check('d3'));
    expect(await state(p)).toBe('pending');
    expect(prompter.asked).toHaveLength(1);
  });

  it('lets a view-only viewer in without asking only when the policy says so', async () => {
    const asks = setup({ viewOnlySkipsConsent: false });
    expect(await state(asks.gate.admit(asks.check('d1', { asks: VIEW_ONLY })))).toBe('pending');
    const skips = setup({ viewOnlySkipsConsent: true });
    expect(await state(skips.gate.admit(skips.check('d1', { asks: VIEW_ONLY })))).toBe('admitted');
    expect(await state(skips.gate.admit(skips.check('d2', { asks: FULL_CONTROL })))).toBe('pending');
  });

  it('asks with the viewer, what it asks for and the timeout, and says how long it may wait first', async () => {
    const { gate, prompter, check } = setup({ consentTimeoutMs: 45_000 });
    const waited: number[] = [];
    void gate.admit(
      check('d1', { asks: { control: true, files: false }, onWaiting: (ms) => waited.push(ms) }),
    );
    await settle();
    expect(waited).toEqual([45_000]);
    expect(prompter.asked).toEqual([
      { sessionId: 1, viewer: 'bob', asks: { control: true, files: false }, timeoutMs: 45_000 },
    ]);
  });

  it('under `when-user-present` lets the helper find nobody there (idle): admitted without a prompt or audit', async () => {
    const { gate, prompter, audit, check } = setup({
      consent: 'when-user-present',
      absentAfterIdleMs: 120_000,
    });
    const p = gate.admit(check('d1'));
    await settle();
    expect(prompter.asked[0]?.absentAfterIdleMs).toBe(120_000);
    prompter.answer({ outcome: 'absent', reason: 'no input for 600 s' });
    expect(await state(p)).toBe('admitted');
    expect(audit).toEqual([]);
    // Nothing is held for a reconnect: the next start asks (or finds nobody) again.
    void gate.admit(check('d2'));
    await settle();
    expect(prompter.asked).toHaveLength(2);
  });

  it('does not read the idle time under `always` or with absentAfterIdleMs 0, and refuses an `absent` it did not ask for', async () => {
    const always = setup({ consent: 'always' });
    const p = always.gate.admit(always.check('d1'));
    await settle();
    expect(always.prompter.asked[0]).not.toHaveProperty('absentAfterIdleMs');
    always.prompter.answer({ outcome: 'absent', reason: 'idle' });
    expect(await state(p)).toBe('helper_unavailable');
    const off = setup({ consent: 'when-user-present', absentAfterIdleMs: 0 });
    void off.gate.admit(off.check('d1'));
    await settle();
    expect(off.prompter.asked[0]).not.toHaveProperty('absentAfterIdleMs');
  });

  it('names an unnamed viewer as such', async () => {
    const { gate, prompter, check } = setup();
    void gate.admit(check('d1', { viewer: undefined }));
    await settle();
    expect(prompter.asked[0]?.viewer).toBe(UNNAMED_VIEWER);
  });
});

describe('what an answer comes to', () => {
  it('accepted: admitted, audited as accepted', async () => {
    const { gate, prompter, audit, check } = setup();
    const p = gate.admit(check('d1'));
    await settle();
    prompter.answer({ outcome: 'accepted' });
    expect(await state(p)).toBe('admitted');
    expect(audit).toEqual([{ sessionId: 1, event: { kind: 'consent', desktop: 'd1', outcome: 'accepted' } }]);
  });

  it('denied: consent_denied, audited as denied', async () => {
    const { gate, prompter, audit, check } = setup();
    const p = gate.admit(check('d1'));
    await settle();
    prompter.answer({ outcome: 'denied' });
    expect(await state(p)).toBe('consent_denied');
    expect(audit.map((a) => a.event)).toEqual([{ kind: 'consent', desktop: 'd1', outcome: 'denied' }]);
  });

  it('timed out: consent_timeout when the policy answers deny, admitted when it answers accept', async () => {
    const deny = setup({ onConsentTimeout: 'deny' });
    const p1 = deny.gate.admit(deny.check('d1'));
    await settle();
    deny.prompter.answer({ outcome: 'timed_out' });
    expect(await state(p1)).toBe('consent_timeout');
    const accept = setup({ onConsentTimeout: 'accept' });
    const p2 = accept.gate.admit(accept.check('d1'));
    await settle();
    accept.prompter.answer({ outcome: 'timed_out' });
    expect(await state(p2)).toBe('admitted');
    for (const s of [deny, accept]) {
      expect(s.audit.map((a) => a.event.kind === 'consent' && a.event.outcome)).toEqual(['timed_out']);
    }
  });

  it('a prompt that cannot be shown refuses the desktop (helper_unavailable) and is not audited', async () => {
    const { gate, prompter, audit, check } = setup();
    const p = gate.admit(check('d1'));
    await settle();
    prompter.answer({ outcome: 'unavailable', reason: 'zenity is not installed' });
    await expect(p).rejects.toMatchObject({
      code: 'helper_unavailable',
      message: expect.stringMatching(/zenity is not installed/),
    });
    expect(audit).toEqual([]);
  });

  it('a prompter that overruns its own timeout counts as timed out', async () => {
    const { gate, clock, check } = setup({ consentTimeoutMs: 10_000 });
    const p = gate.admit(check('d1'));
    expect(await state(p)).toBe('pending');
    await clock.advance(10_000);
    expect(await state(p)).toBe('pending');
    await clock.advance(5000);
    expect(await state(p)).toBe('consent_timeout');
  });
});

describe('a reconnect and the consent it holds', () => {
  it('is not asked again while the accepted desktop runs, nor within consentHoldMs after it ended', async () => {
    const { gate, prompter, clock, check } = setup({ consentHoldMs: 60_000 });
    const p = gate.admit(check('d1'));
    await settle();
    prompter.answer({ outcome: 'accepted' });
    await p;
    await clock.advance(600_000); // a long session: the grant holds while a desktop of it runs
    expect(await state(gate.admit(check('d2')))).toBe('admitted');
    gate.desktopEnded('d1');
    gate.desktopEnded('d2');
    await clock.advance(59_000);
    expect(await state(gate.admit(check('d3')))).toBe('admitted');
    gate.desktopEnded('d3');
    await clock.advance(60_000);
    expect(await state(gate.admit(check('d4')))).toBe('pending');
    expect(prompter.asked).toHaveLength(2);
  });

  it('holds for no more than was accepted, for that viewer only, in that session only', async () => {
    const { gate, prompter, check } = setup();
    const p = gate.admit(check('d1', { asks: VIEW_ONLY }));
    await settle();
    prompter.answer({ outcome: 'accepted' });
    await p;
    expect(await state(gate.admit(check('d2', { asks: VIEW_ONLY })))).toBe('admitted');
    expect(await state(gate.admit(check('d3', { asks: FULL_CONTROL })))).toBe('pending');
    expect(await state(gate.admit(check('d4', { asks: VIEW_ONLY, viewer: 'mallory' })))).toBe('pending');
    expect(await state(gate.admit(check('d5', { asks: VIEW_ONLY, sessionId: 2 })))).toBe('pending');
    expect(prompter.asked).toHaveLength(4);
  });

  it('asks every time with consentHoldMs 0 once the desktop ended, and always for an unnamed viewer', async () => {
    const { gate, prompter, check } = setup({ consentHoldMs: 0 });
    const p = gate.admit(check('d1'));
    await settle();
    prompter.answer({ outcome: 'accepted' });
    await p;
    gate.desktopEnded('d1');
    expect(await state(gate.admit(check('d2')))).toBe('pending');
    const u = setup();
    const q = u.gate.admit(u.check('d1', { viewer: undefined }));
    await settle();
    u.prompter.answer({ outcome: 'accepted' });
    await q;
    expect(await state(u.gate.admit(u.check('d2', { viewer: undefined })))).toBe('pending');
  });

  it('asks again after a desktop of the grant was cut by the session policy', async () => {
    const { gate, prompter, check } = setup();
    const p = gate.admit(check('d1'));
    await settle();
    prompter.answer({ outcome: 'accepted' });
    await p;
    expect(await state(gate.admit(check('d2')))).toBe('admitted');
    gate.desktopCut('d1');
    expect(await state(gate.admit(check('d3')))).toBe('pending');
  });

  it('forgets what was accepted in a session whose user logged off', async () => {
    const { gate, prompter, check } = setup();
    const p = gate.admit(check('d1'));
    await settle();
    prompter.answer({ outcome: 'accepted' });
    await p;
    gate.forgetSession(1);
    expect(await state(gate.admit(check('d2')))).toBe('pending');
  });
});

describe('bounds on prompting', () => {
  it('shows one prompt for two requests of one viewer, and both follow its answer', async () => {
    const { gate, prompter, check } = setup();
    const a = gate.admit(check('d1'));
    const b = gate.admit(check('d2'));
    await settle();
    expect(prompter.asked).toHaveLength(1);
    prompter.answer({ outcome: 'denied' });
    expect(await Promise.all([state(a), state(b)])).toEqual(['consent_denied', 'consent_denied']);
  });

  it(`refuses a session's prompt beyond ${MAX_PROMPTS_PER_SESSION} open ones with rate_limited`, async () => {
    const { gate, prompter, check } = setup({ consentTimeoutMs: 20_000 });
    for (let i = 0; i < MAX_PROMPTS_PER_SESSION; i++) {
      gate.admit(check(`d${i}`, { viewer: `v${i}` })).catch(() => {});
    }
    await settle();
    await expect(gate.admit(check('dx', { viewer: 'vx' }))).rejects.toMatchObject({
      code: 'rate_limited',
      retryAfterMs: 20_000,
    });
    expect(prompter.asked).toHaveLength(MAX_PROMPTS_PER_SESSION);
    prompter.answer({ outcome: 'denied' });
    await settle();
    expect(await state(gate.admit(check('dy', { viewer: 'vy' })))).toBe('pending');
  });

  it(`refuses a viewer just denied for ${DENIED_QUIET_MS} ms without a prompt`, async () => {
    const { gate, prompter, clock, check } = setup();
    const p = gate.admit(check('d1'));
    await settle();
    prompter.answer({ outcome: 'denied' });
    await state(p);
    expect(await state(gate.admit(check('d2')))).toBe('consent_denied');
    expect(prompter.asked).toHaveLength(1);
    await clock.advance(DENIED_QUIET_MS);
    expect(await state(gate.admit(check('d3')))).toBe('pending');
    expect(prompter.asked).toHaveLength(2);
  });
});
