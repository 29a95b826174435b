/**
 * Chat and the being-viewed indicator end to end (issue 17 §2, §3): the real API, service and a helper
 * running as a user the test creates, and the built viewer in headless Chromium. While the viewer is
 * connected, the session shows the override-redirect indicator naming it; a line typed in the viewer's
 * Chat panel opens the session's chat window (zenity), where the person (XTest) answers, and the
 * answer appears in the viewer. The audit log says chat was used, once, without the text. A view-only
 * sign-in (one-time login or a long-lived token) gets a view-only UI: a badge, View only locked, nothing
 * sent on `input` or `files` whatever the person does on the video.
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

const artifacts = 'test-results/e2e';
const run = canCreateUsers() ? describe : describe.skip;
const SCREEN = { width: 800, height: 600 };
const VIEWER = 'e2e-chat';

let stack: DemoStack;
let browser: Browser;
let page: Page;
let user: TestUser;
let person: InputInjector;

const display = () => stack.displays[0]!.display;

/** Top-level windows of the session named `name`, with their geometry. */
function windowsNamed(
  name: string,
): { x: number; y: number; width: number; height: number; override: boolean }[] {
  const tree = execFileSync('xwininfo', ['-root', '-children', '-display', display()], { encoding: 'utf8' });
  const out = [];
  for (const m of tree.matchAll(/(0x[0-9a-f]+) "([^"]*)":.*?(\d+)x(\d+)\+(-?\d+)\+(-?\d+)/g)) {
    if (m[2] !== name) continue;
    const attrs = execFileSync('xwininfo', ['-id', m[1]!, '-display', display()], { encoding: 'utf8' });
    if (!/Map State: IsViewable/.test(attrs)) continue;
    out.push({
      width: +m[3]!,
      height: +m[4]!,
      x: +m[5]!,
      y: +m[6]!,
      override: /Override Redirect State: yes/.test(attrs),
    });
  }
  return out;
}

/** The session's pointer position, as the X server has it. */
function pointerAt(): string {
  return execFileSync('xdotool', ['getmouselocation'], {
    encoding: 'utf8',
    env: { ...process.env, DISPLAY: display() },
  }).replace(/ window:.*$/s, '');
}

const auditLines = (): { action: string; viewer: string | null; desktopSessionId?: string }[] =>
  readFileSync(join(stack.api.dataDir, 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { action: string; viewer: string | null });

beforeAll(async () => {
  if (!canCreateUsers()) return;
  mkdirSync(artifacts, { recursive: true });
  user = createTestUser('phchat');
  stack = await startDemoStack({
    sessions: [{ colour: '#203040', title: 'chat', ...SCREEN, bare: true, username: user.name }],
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
  await page.goto(await stack.loginUrl(VIEWER));
  await page
    .locator(`#session option[value="${stack.displays[0]!.number}"]`)
    .waitFor({ state: 'attached', timeout: 30_000 });
  await page.selectOption('#session', String(stack.displays[0]!.number));
}, 180_000);

afterAll(async () => {
  if (stack) writeFileSync(`${artifacts}/chat-service.log`, stack.serviceOutput());
  if (page) await page.screenshot({ path: `${artifacts}/chat-last.png` }).catch(() => undefined);
  person?.close();
  await browser?.close();
  await stack?.stop();
  user?.remove();
});

run('chat and the being-viewed indicator in Chromium', () => {
  it('shows the indicator in the session while the viewer is connected', async () => {
    const indicator = `porthole: ${VIEWER} is viewing this screen`;
    expect(windowsNamed(indicator)).toEqual([]);
    await page.click('#connect');
    await page.waitForFunction(() => (document.querySelector('video')?.videoWidth ?? 0) > 0, undefined, {
      timeout: 30_000,
    });
    await waitFor(() => windowsNamed(indicator).length === 1, { what: 'the indicator', timeoutMs: 15_000 });
    expect(windowsNamed(indicator)[0]).toMatchObject({ y: 0, override: true });
  });

  it('carries a line each way, and audits only that chat was used', async () => {
    await page.click('#chat-toggle');
    await page.fill('#chat-input', 'hello from the viewer');
    await page.press('#chat-input', 'Enter');
    await expect
      .poll(() => page.locator('#chat-log li').allTextContents())
      .toEqual(['You: hello from the viewer']);
    await waitFor(() => windowsNamed('porthole: chat').length === 1, {
      what: 'the chat window in the session',
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    // GTK maps its window a moment before it takes input: type until the answer arrives.
    const answered = () =>
      page
        .locator('#chat-log li')
        .allTextContents()
        .then((t) => t.some((l) => l.startsWith('Remote:')));
    for (let attempt = 0; attempt < 10 && !(await answered()); attempt++) {
      const w = windowsNamed('porthole: chat')[0];
      if (w) {
        person.pointerMove(
          { x: 0, y: 0, ...SCREEN },
          (w.x + w.width / 2) / SCREEN.width,
          (w.y + w.height / 2 + 10) / SCREEN.height,
        );
        person.button('left', true);
        person.button('left', false);
      }
      person.text('hello back');
      person.key('Enter', true);
      person.key('Enter', false);
      await expect
        .poll(answered, { timeout: 2000 })
        .toBe(true)
        .catch(() => undefined);
    }
    const log = await page.locator('#chat-log li').allTextContents();
    expect(log[0]).toBe('You: hello from the viewer');
    expect(log[1]).toMatch(/^Remote: (hello back)+$/);
    await waitFor(() => auditLines().some((l) => l.action === 'chat'), { what: 'the chat audit line' });
    const chat = auditLines().filter((l) => l.action === 'chat');
    expect(chat).toHaveLength(1);
    expect(chat[0]).toMatchObject({ viewer: VIEWER, ok: true });
    expect(JSON.stringify(chat[0])).not.toMatch(/hello/);
  });

  it('takes the indicator away when the viewer disconnects', async () => {
    await page.click('#connect'); // Disconnect
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 15_000 }).toBe('Not connected');
    await waitFor(() => windowsNamed(`porthole: ${VIEWER} is viewing this screen`).length === 0, {
      what: 'the indicator gone',
      timeoutMs: 15_000,
    });
    await waitFor(() => windowsNamed('porthole: chat').length === 0, {
      what: 'the chat window gone',
      timeoutMs: 15_000,
    });
  });

  it('a view-only sign-in gets a view-only UI (badge, View only locked, chat offered), and the helper refuses its input and files channels, also when reopened by hand', async () => {
    const viewOnly = await browser.context.newPage();
    // Counts what the page sends on each DataChannel, by label: the UI's own restraint, measured
    // before the helper (which refuses these channels anyway) could hide it.
    await viewOnly.addInitScript(() => {
      // The page's PeerConnections, for the hand-written client below.
      const peers: RTCPeerConnection[] = [];
      (window as unknown as { __peers: RTCPeerConnection[] }).__peers = peers;
      const Original = RTCPeerConnection;
      window.RTCPeerConnection = class extends Original {
        constructor(config?: RTCConfiguration) {
          super(config);
          peers.push(this);
        }
      };
      // The channels the viewer itself opened, by label (the helper refuses input and files).
      const own: Record<string, RTCDataChannel> = {};
      (window as unknown as { __own: Record<string, RTCDataChannel> }).__own = own;
      const create = RTCPeerConnection.prototype.createDataChannel;
      RTCPeerConnection.prototype.createDataChannel = function (
        this: RTCPeerConnection,
        label: string,
        init?: RTCDataChannelInit,
      ) {
        const dc = create.call(this, label, init);
        own[label] ??= dc;
        return dc;
      };
      const sent: Record<string, number> = {};
      (window as unknown as { __sentByLabel: Record<string, number> }).__sentByLabel = sent;
      const send = RTCDataChannel.prototype.send;
      RTCDataChannel.prototype.send = function (this: RTCDataChannel, data: never) {
        sent[this.label] = (sent[this.label] ?? 0) + 1;
        return send.call(this, data);
      };
    });
    const sentOn = (label: string) =>
      viewOnly.evaluate(
        (l) => (window as unknown as { __sentByLabel: Record<string, number> }).__sentByLabel[l] ?? 0,
        label,
      );
    try {
      const token = await stack.api.issueLoginToken('e2e-viewonly', { viewOnly: true });
      await viewOnly.goto(`${stack.api.url}/#login=${token}`);
      await viewOnly.locator('#view-only').waitFor({ timeout: 30_000 });
      expect(await viewOnly.isVisible('#view-only-badge')).toBe(true);
      expect(await viewOnly.getAttribute('#view-only', 'aria-pressed')).toBe('true');
      expect(await viewOnly.isDisabled('#view-only')).toBe(true);
      expect(await viewOnly.isDisabled('#ctrl-alt-del')).toBe(true);
      await viewOnly
        .locator(`#session option[value="${stack.displays[0]!.number}"]`)
        .waitFor({ state: 'attached', timeout: 30_000 });
      await viewOnly.selectOption('#session', String(stack.displays[0]!.number));
      await viewOnly.click('#connect');
      await expect
        .poll(() => viewOnly.locator('#status').textContent(), { timeout: 30_000 })
        .toBe('Connected');
      expect(await viewOnly.isDisabled('#files-toggle')).toBe(true);
      expect(await viewOnly.isDisabled('#paste')).toBe(true);
      expect(await viewOnly.isDisabled('#chat-toggle')).toBe(false);
      // A person at the viewer clicks, types and scrolls on the video, and drops a file on it.
      const video = (await viewOnly.locator('#stage').boundingBox())!;
      await viewOnly.mouse.move(video.x + video.width / 3, video.y + video.height / 3);
      await viewOnly.mouse.click(video.x + video.width / 2, video.y + video.height / 2);
      await viewOnly.mouse.wheel(0, 100);
      await viewOnly.keyboard.press('KeyZ');
      const drop = await viewOnly.evaluateHandle(() => {
        const dt = new DataTransfer();
        dt.items.add(new File(['not sent'], 'dropped.txt', { type: 'text/plain' }));
        return dt;
      });
      await viewOnly.dispatchEvent('.stage', 'drop', { dataTransfer: drop });
      await expect
        .poll(() => viewOnly.locator('.toasts').textContent(), { timeout: 5000 })
        .toMatch(/view-only: it cannot send files/);
      expect(await viewOnly.isVisible('#files-panel')).toBe(false);
      expect(await sentOn('input')).toBe(0);
      expect(await sentOn('files')).toBe(0);
      // The control channel is in use (heartbeats): the counter does see this page's sends.
      expect(await sentOn('control')).toBeGreaterThan(0);

      // The helper refused the viewer's own input and files channels; control stays open.
      const ownStates = await viewOnly.evaluate(() => {
        const own = (window as unknown as { __own: Record<string, RTCDataChannel> }).__own;
        return {
          input: own.input?.readyState,
          files: own.files?.readyState,
          control: own.control?.readyState,
        };
      });
      expect(ownStates).toEqual({ input: 'closed', files: 'closed', control: 'open' });
      // A hand-written client on the same connection opens the input and files channels itself and
      // sends on them at once: the helper closes both and nothing reaches the session.
      const pointerBefore = pointerAt();
      const outcome = await viewOnly.evaluate(
        async (target) => {
          const pc = (window as unknown as { __peers: RTCPeerConnection[] }).__peers.find(
            (p) => p.connectionState === 'connected',
          )!;
          const attempt = (label: string, message: string) =>
            new Promise<string>((resolve) => {
              const dc = pc.createDataChannel(label);
              let sent = 0;
              dc.onopen = () => {
                for (let i = 0; i < 20; i++) {
                  try {
                    dc.send(message);
                    sent++;
                  } catch {
                    break;
                  }
                }
              };
              dc.onclose = () => resolve(`${label} closed after ${sent} sends`);
              setTimeout(() => resolve(`${label} still ${dc.readyState}`), 10_000);
            });
          return Promise.all([
            attempt('input', JSON.stringify({ type: 'pointer_move', x: target.x, y: target.y })),
            attempt('files', JSON.stringify({ type: 'offer', id: 'f1', name: 'x.txt', size: 4 })),
          ]);
        },
        { x: 0.1, y: 0.9 },
      );
      expect(outcome[0]).toMatch(/^input closed/);
      expect(outcome[1]).toMatch(/^files closed/);
      expect(pointerAt()).toEqual(pointerBefore);
      await viewOnly.click('#connect');
    } finally {
      await viewOnly.close();
    }
  });

  it('a view-only long-lived token (not a one-time login) also gets the view-only UI', async () => {
    const direct = await browser.context.newPage();
    try {
      const token = await stack.api.issueViewerToken('e2e-viewonly-token', { viewOnly: true });
      await direct.goto(`${stack.api.url}/#login=${token}`);
      await direct.locator('#view-only-badge').waitFor({ state: 'visible', timeout: 30_000 });
      expect(await direct.isDisabled('#view-only')).toBe(true);
    } finally {
      await direct.close();
    }
  });
});
