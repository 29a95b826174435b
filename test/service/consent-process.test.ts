/**
 * Issue 17 §2 with the real processes: consent and session limits. A `porthole service` whose config
 * asks for consent (`access.consent: always`) and limits each desktop's length, with a real helper in
 * an Xvfb session; a test API sends `start_desktop`, and the person at the machine is played through
 * XTest: the test waits for the helper's prompt (zenity) to be mapped on the X server, moves the
 * pointer into it and presses Alt+A (Allow) or Alt+D (Deny), or leaves it to time out.
 *
 * The X server and the wire are the judges: no desktop_start reaches the helper before the answer (the
 * viewer gets an answer only after Allow), a denial and a timeout are the consent codes, the API heard
 * `waiting` for each and the `consent` audit events; an accepted desktop is warned and then cut at its
 * maximum length (`session_limit` on `control`, a `session_cut` event).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentReply } from '../../src/protocol/api.js';
import { createInputInjector } from '../../src/helper/input/index.js';
import type { InputInjector } from '../../src/helper/input/input-injector.js';
import { silentLogger } from '../../src/log/logger.js';
import { waitFor } from '../fixtures/wait-for.js';
import { startServiceWithHelper, stopService, sessionOn } from '../fixtures/service-process.js';
import { startTestApi, type TestApi } from '../fixtures/test-api.js';
import { connectTestOfferer, createTestOfferer } from '../fixtures/webrtc-offerer.js';
import { startXvfb, type XvfbHandle } from '../fixtures/xvfb.js';

const token = 'test-token-0123456789abcdef';
const deviceId = 'dev-consent';
const PROMPT_TITLE = 'porthole: remote access request';
const SCREEN = { w: 640, h: 480 };
const CONSENT_TIMEOUT_MS = 8000;
const MAX_SESSION_MS = 8000;
const WARN_MS = 4000;

let x: XvfbHandle;
let api: TestApi;
let svc: ChildProcess;
let person: InputInjector;
let seq = 0;
const closers: (() => unknown)[] = [];

/** Whether the prompt window is mapped on the X server (xwininfo, from x11-utils). */
function promptShown(): boolean {
  const tree = execFileSync('xwininfo', ['-root', '-tree', '-display', x.display], { encoding: 'utf8' });
  return tree.includes(`"${PROMPT_TITLE}"`);
}

/**
 * Plays the person at the machine: waits for the prompt, points into it (without a window manager the
 * keyboard focus follows the pointer, and zenity centres its dialog) and presses Alt+letter.
 */
async function answerPrompt(letter: 'KeyA' | 'KeyD'): Promise<void> {
  await waitFor(promptShown, {
    what: 'the consent prompt on the X server',
    timeoutMs: 20_000,
    intervalMs: 100,
  });
  // GTK maps its window a moment before it takes input, longer on a loaded machine: press until the
  // prompt is gone (a press that lands is the last one).
  for (let attempt = 0; attempt < 10 && promptShown(); attempt++) {
    person.pointerMove({ x: 0, y: 0, width: SCREEN.w, height: SCREEN.h }, 0.5, 0.5);
    person.key('AltLeft', true);
    person.key(letter, true);
    person.key(letter, false);
    person.key('AltLeft', false);
    await waitFor(() => !promptShown(), { what: 'the prompt closed', timeoutMs: 1000, intervalMs: 50 }).catch(
      () => undefined,
    );
  }
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-consent-'));
  writeFileSync(join(dir, 'token'), token);
  chmodSync(dir, 0o711);
  // -ac: the helper (and its prompt) may run as another user than the one who started Xvfb.
  x = await startXvfb({ screens: [SCREEN], args: ['-ac'] });
  person = createInputInjector({ backend: 'x11', display: x.display, log: silentLogger });
  api = await startTestApi({ deviceId, token });
  const config = join(dir, 'porthole.json');
  writeFileSync(
    config,
    JSON.stringify({
      sessions: {
        pollMs: 300,
        configured: [sessionOn(x.display)],
      },
      access: {
        consent: 'always',
        consentTimeoutMs: CONSENT_TIMEOUT_MS,
        onConsentTimeout: 'deny',
        consentHoldMs: 0,
        maxSessionMs: MAX_SESSION_MS,
        limitWarningMs: WARN_MS,
      },
    }),
  );
  svc = await startServiceWithHelper(api, { config, deviceId, tokenFile: join(dir, 'token') });
}, 60_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  person?.close();
  await stopService(svc);
  await api?.close();
  await x?.stop();
}, 30_000);

/** start_desktop for `viewer` with a real offer; resolves with the agent's reply. */
function startDesktop(offer: string, viewer: string, desktop: string): Promise<AgentReply> {
  return api.command(
    {
      id: `start-${desktop}`,
      type: 'start_desktop',
      payload: { sessionId: desktop, offer, iceServers: [], viewer: { name: viewer } },
    },
    60_000,
  );
}

/** The `waiting` messages the agent sent for a command (the API's longer deadline). */
function waitedFor(desktop: string): unknown[] {
  return api.messages.filter(
    (m) =>
      (m as { type?: string; id?: string }).type === 'waiting' &&
      (m as { id: string }).id === `start-${desktop}`,
  );
}

const consentEvents = (desktop: string) =>
  api.events.filter((e) => e.event.kind === 'consent' && e.event.desktop === desktop).map((e) => e.event);

describe('consent from the person at the machine (zenity prompt, answered through XTest)', () => {
  it('Allow: the desktop starts only then; warned and cut at its maximum length', async () => {
    const desktop = `desk-${++seq}`;
    let answeredAt = 0;
    const { viewer } = await connectTestOfferer(
      async (offer) => {
        const reply = startDesktop(offer, 'alice', desktop);
        // Nothing is answered while the prompt is up.
        await waitFor(promptShown, { what: 'the prompt', timeoutMs: 20_000, intervalMs: 100 });
        expect(
          await Promise.race([
            reply.then(() => 'answered'),
            new Promise((r) => setTimeout(() => r('waiting'), 300)),
          ]),
        ).toBe('waiting');
        await answerPrompt('KeyA');
        const r = await reply;
        answeredAt = Date.now();
        if (!r.ok) throw new Error(`start_desktop failed: ${r.error.code} ${r.error.message}`);
        return { answer: (r.result as { answer: string }).answer };
      },
      { readyTimeoutMs: 20_000 },
    );
    closers.push(() => viewer.close());
    expect(waitedFor(desktop)).toEqual([
      { type: 'waiting', id: `start-${desktop}`, for: 'consent', timeoutMs: CONSENT_TIMEOUT_MS },
    ]);
    expect(consentEvents(desktop)).toEqual([{ kind: 'consent', desktop, outcome: 'accepted' }]);
    await waitFor(() => !promptShown(), { what: 'the prompt gone', timeoutMs: 5000 });

    // The maximum length: a warning WARN_MS before, then the cut.
    const limits = () =>
      viewer
        .received('control')
        .map((m) => JSON.parse(m) as { type: string })
        .filter((m) => m.type === 'session_limit');
    // The person at the machine is told at the same moment, on the being-viewed indicator.
    const indicatorNames = () =>
      [
        ...execFileSync('xwininfo', ['-root', '-children', '-display', x.display], {
          encoding: 'utf8',
        }).matchAll(/"(porthole: [^"]*)"/g),
      ].map((m) => m[1]!);
    await waitFor(() => limits().length >= 1, { what: 'the warning', timeoutMs: MAX_SESSION_MS + 10_000 });
    await waitFor(
      () =>
        indicatorNames().some((n) =>
          /^porthole: alice is viewing this screen - session ends in [1-4] s \(time limit\)$/.test(n),
        ),
      { what: 'the warning on the indicator', timeoutMs: 3000, detail: () => indicatorNames().join('\n') },
    );
    await waitFor(() => limits().length >= 2, {
      what: 'the warning and the cut notice',
      timeoutMs: MAX_SESSION_MS + 10_000,
      detail: () => viewer.received('control').join('\n'),
    });
    expect(limits()).toEqual([
      { type: 'session_limit', reason: 'max_length', remainingMs: WARN_MS },
      { type: 'session_limit', reason: 'max_length', remainingMs: 0 },
    ]);
    await waitFor(() => viewer.closed('control'), { what: 'the connection cut', timeoutMs: 10_000 });
    // Counted from the connection, which came after the answer.
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(MAX_SESSION_MS - 500);
    await waitFor(() => api.events.some((e) => e.event.kind === 'session_cut'), {
      what: 'session_cut',
      timeoutMs: 10_000,
    });
    expect(api.events.find((e) => e.event.kind === 'session_cut')).toEqual({
      type: 'event',
      targetSessionId: x.displayNumber,
      event: { kind: 'session_cut', desktop, reason: 'max_length' },
    });
  }, 90_000);

  it('Deny: consent_denied, and no desktop was started', async () => {
    const desktop = `desk-${++seq}`;
    const offerer = await createTestOfferer();
    closers.push(() => offerer.close());
    const reply = startDesktop(offerer.offer, 'bob', desktop);
    await answerPrompt('KeyD');
    const r = await reply;
    expect(r).toMatchObject({ ok: false, error: { code: 'consent_denied' } });
    expect(consentEvents(desktop)).toEqual([{ kind: 'consent', desktop, outcome: 'denied' }]);
    await waitFor(() => !promptShown(), { what: 'the prompt gone', timeoutMs: 5000 });
  }, 60_000);

  it('no answer: the prompt closes itself and the request is consent_timeout', async () => {
    const desktop = `desk-${++seq}`;
    const offerer = await createTestOfferer();
    closers.push(() => offerer.close());
    const reply = startDesktop(offerer.offer, 'carol', desktop);
    await waitFor(promptShown, { what: 'the prompt', timeoutMs: 20_000, intervalMs: 100 });
    const r = await reply;
    expect(r).toMatchObject({ ok: false, error: { code: 'consent_timeout' } });
    expect(promptShown()).toBe(false);
    expect(consentEvents(desktop)).toEqual([{ kind: 'consent', desktop, outcome: 'timed_out' }]);
  }, 60_000);
});
