/**
 * Consent end to end (issue 17 §2) from the viewer's side: the real API, a service whose config asks
 * the user (`access.consent: always`), a helper running as a user the test creates, and the built
 * viewer in headless Chromium. The person at the machine is played through XTest on the session's
 * display: Alt+A on the prompt lets the viewer in (video plays), Alt+D refuses it (the viewer shows
 * the 403's message), a prompt left alone times out (consent_timeout), and the audit log records the
 * answers. The device also limits a desktop's length: the viewer and the person at the machine (on the
 * being-viewed indicator) see the warning, then the viewer ends with the reason instead of
 * reconnecting around the limit.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoStack, type DemoStack } from '../../src/demo/demo-stack.js';
import { createInputInjector } from '../../src/helper/input/index.js';
import type { InputInjector } from '../../src/helper/input/input-injector.js';
import { silentLogger } from '../../src/log/logger.js';
import { canCreateUsers, createTestUser, type TestUser } from '../fixtures/test-user.js';
import { waitFor } from '../fixtures/wait-for.js';
import { launchChromium, type Browser } from '../viewer/browser-fixture.js';
import { DENIED_QUIET_MS } from '../../src/service/consent/consent-gate.js';

const artifacts = 'test-results/e2e';
const run = canCreateUsers() ? describe : describe.skip;
const SCREEN = { width: 640, height: 480 };
const PROMPT_TITLE = 'porthole: remote access request';
/** Long enough for the first test to connect and disconnect, short enough to wait for in the second. */
const MAX_SESSION_MS = 20_000;
const CONSENT_TIMEOUT_MS = 20_000;

let stack: DemoStack;
let browser: Browser;
let page: Page;
let user: TestUser;
let person: InputInjector;

const display = () => stack.displays[0]!.display;
/** The names of the session's "porthole: …" windows (the being-viewed indicator's carries its text). */
const porthole = () =>
  [
    ...execFileSync('xwininfo', ['-root', '-children', '-display', display()], {
      encoding: 'utf8',
    }).matchAll(/"(porthole: [^"]*)"/g),
  ].map((m) => m[1]!);
const promptShown = () =>
  execFileSync('xwininfo', ['-root', '-tree', '-display', display()], { encoding: 'utf8' }).includes(
    `"${PROMPT_TITLE}"`,
  );

/** Waits for the prompt, points into it and presses Alt+letter through XTest. */
async function answerPrompt(letter: 'KeyA' | 'KeyD'): Promise<void> {
  await waitFor(promptShown, {
    what: 'the consent prompt on the X server',
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  // GTK maps its window a moment before it takes input, longer on a loaded machine: press until the
  // prompt is gone (a press that lands is the last one).
  for (let attempt = 0; attempt < 10 && promptShown(); attempt++) {
    person.pointerMove({ x: 0, y: 0, ...SCREEN }, 0.5, 0.5);
    person.key('AltLeft', true);
    person.key(letter, true);
    person.key(letter, false);
    person.key('AltLeft', false);
    await waitFor(() => !promptShown(), { what: 'the prompt closed', timeoutMs: 1000, intervalMs: 50 }).catch(
      () => undefined,
    );
  }
}

const consentAudit = (): { viewer: string; code?: string; ok: boolean }[] =>
  readFileSync(join(stack.api.dataDir, 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { action: string; viewer: string; ok: boolean; code?: string })
    .filter((l) => l.action === 'consent');

beforeAll(async () => {
  if (!canCreateUsers()) return;
  mkdirSync(artifacts, { recursive: true });
  user = createTestUser('phconsent');
  stack = await startDemoStack({
    sessions: [{ colour: '#402040', title: 'consent', ...SCREEN, bare: true, username: user.name }],
    access: {
      consent: 'always',
      consentTimeoutMs: CONSENT_TIMEOUT_MS,
      consentHoldMs: 0,
      maxSessionMs: MAX_SESSION_MS,
      limitWarningMs: 6000,
    },
  });
  await waitFor(() => /"helper ready"/.test(stack.serviceOutput()), {
    what: 'a ready helper',
    timeoutMs: 60_000,
    intervalMs: 100,
  });
  person = createInputInjector({ backend: 'x11', display: display(), log: silentLogger });
  browser = await launchChromium();
  page = await browser.context.newPage();
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.goto(await stack.loginUrl('e2e-consent'));
  await page
    .locator(`#session option[value="${stack.displays[0]!.number}"]`)
    .waitFor({ state: 'attached', timeout: 30_000 });
  await page.selectOption('#session', String(stack.displays[0]!.number));
}, 180_000);

afterAll(async () => {
  if (stack) writeFileSync(`${artifacts}/consent-service.log`, stack.serviceOutput());
  if (page) await page.screenshot({ path: `${artifacts}/consent-last.png` }).catch(() => undefined);
  person?.close();
  await browser?.close();
  await stack?.stop();
  user?.remove();
});

run('consent in Chromium', () => {
  it('connects once the person at the machine allows it', async () => {
    await page.click('#connect');
    await answerPrompt('KeyA');
    await page.waitForFunction(() => (document.querySelector('video')?.videoWidth ?? 0) > 0, undefined, {
      timeout: 30_000,
    });
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 15_000 }).toBe('Connected');
    expect(consentAudit()).toMatchObject([{ viewer: 'e2e-consent', ok: true }]);
    await page.click('#connect'); // Disconnect
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 15_000 }).toBe('Not connected');
  });

  it('warns before the maximum session length, then ends without reconnecting', async () => {
    await page.click('#connect');
    await answerPrompt('KeyA');
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 30_000 }).toBe('Connected');
    await expect
      .poll(() => page.locator('.toast').allTextContents(), { timeout: MAX_SESSION_MS })
      .toContain('This session reaches its maximum length in 6 seconds');
    // The person at the machine is told too: the indicator counts down to the cut.
    await expect
      .poll(porthole, { timeout: 3000 })
      .toContainEqual(
        expect.stringMatching(
          /^porthole: e2e-consent is viewing this screen - session ends in [1-6] s \(time limit\)$/,
        ),
      );
    await expect
      .poll(() => page.locator('#status').textContent(), { timeout: 20_000 })
      .toBe('Disconnected: the remote machine ended the session: the maximum session length was reached');
    // No reconnect: a new desktop would have asked the person again.
    await new Promise((r) => setTimeout(r, 3000));
    expect(promptShown()).toBe(false);
    expect(await page.locator('#status').textContent()).toMatch(/^Disconnected: the remote machine ended/);
  });

  it('says so when nobody answers the prompt: it closes by itself, no desktop', async () => {
    await page.click('#connect');
    await waitFor(promptShown, { what: 'the consent prompt', timeoutMs: 30_000, intervalMs: 100 });
    await expect
      .poll(() => page.locator('#status').textContent(), { timeout: CONSENT_TIMEOUT_MS + 15_000 })
      .toBe('nobody at the machine answered the consent prompt within 20 s');
    expect(promptShown()).toBe(false);
    expect(await page.evaluate(() => document.querySelector('video')?.videoWidth ?? 0)).toBe(0);
    expect(consentAudit().at(-1)).toMatchObject({ viewer: 'e2e-consent', ok: false, code: 'timed_out' });
    // A viewer just refused (a timeout with onConsentTimeout: deny is a refusal) is refused without a
    // prompt for a while: wait that out before the next test asks again.
    await new Promise((r) => setTimeout(r, DENIED_QUIET_MS + 500));
  }, 60_000);

  it('shows the refusal when the person at the machine denies it', async () => {
    await page.click('#connect');
    await answerPrompt('KeyD');
    await expect
      .poll(() => page.locator('#status').textContent(), { timeout: 30_000 })
      .toBe('the user at the machine refused the connection');
    expect(await page.evaluate(() => document.querySelector('video')?.videoWidth ?? 0)).toBe(0);
    expect(consentAudit()).toMatchObject([
      { viewer: 'e2e-consent', ok: true },
      { viewer: 'e2e-consent', ok: true },
      { viewer: 'e2e-consent', ok: false, code: 'timed_out' },
      { viewer: 'e2e-consent', ok: false, code: 'denied' },
    ]);
  });
});
