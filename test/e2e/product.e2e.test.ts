/**
 * The whole product, for real: two Xvfb displays as two sessions (each a known colour), the reference
 * API, `porthole service` with real helpers, and the built viewer in headless Chromium.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoStack, type DemoStack } from '../../src/demo/demo-stack.js';
import { listProcesses } from '../fixtures/processes.js';
import { waitFor } from '../fixtures/wait-for.js';
import { launchChromium, type Browser } from '../viewer/browser-fixture.js';

const W = 640;
const H = 480;
const RED = [200, 30, 30];
const BLUE = [30, 60, 200];
const hex = (c: number[]) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
const artifacts = 'test-results/e2e';

let stack: DemoStack;
let browser: Browser;
let page: Page;
let typed: string;
let xterm: ChildProcess;

/** Mean colour of a block of the video, read through a canvas (what the user sees, decoded). */
async function videoColour(fx: number, fy: number): Promise<number[]> {
  return page.evaluate(
    ([fx, fy]) => {
      const v = document.querySelector('video') as HTMLVideoElement;
      const c = document.createElement('canvas');
      c.width = v.videoWidth;
      c.height = v.videoHeight;
      const ctx = c.getContext('2d') as CanvasRenderingContext2D;
      ctx.drawImage(v, 0, 0);
      const d = ctx.getImageData(Math.floor(fx * c.width) - 4, Math.floor(fy * c.height) - 4, 8, 8).data;
      const sum = [0, 0, 0];
      for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) sum[k]! += d[i + k]!;
      return sum.map((s) => Math.round(s / (d.length / 4)));
    },
    [fx, fy] as const,
  );
}

const near = (a: number[], b: number[], tol = 24) => a.every((v, i) => Math.abs(v - (b[i] as number)) <= tol);

async function videoShows(colour: number[]): Promise<void> {
  let seen = 'no video';
  try {
    await waitFor(
      async () => {
        const state = await page.evaluate(() => {
          const v = document.querySelector('video') as HTMLVideoElement | null;
          return v ? `${v.videoWidth}×${v.videoHeight} t=${v.currentTime.toFixed(2)}` : 'no video element';
        });
        if (!/^[1-9]/.test(state) || / t=0\.00$/.test(state)) {
          seen = state;
          return false;
        }
        const c = await videoColour(0.9, 0.9);
        seen = `${state} colour ${hex(c)}`;
        return near(c, colour);
      },
      { what: `the video to show ${hex(colour)}`, timeoutMs: 30_000, intervalMs: 100 },
    );
  } catch (err) {
    await page.click('#stats-toggle').catch(() => undefined);
    await page.screenshot({ path: `${artifacts}/failed-${hex(colour).slice(1)}.png` }).catch(() => undefined);
    throw new Error(`${(err as Error).message} (last seen: ${seen})`, { cause: err });
  }
}

/** Page coordinates of a point given as a fraction of the remote display, over the video content. */
async function pagePoint(fx: number, fy: number): Promise<{ x: number; y: number }> {
  const r = await page.evaluate(() => {
    const v = document.querySelector('video') as HTMLVideoElement;
    const b = v.getBoundingClientRect();
    const scale = Math.min(b.width / v.videoWidth, b.height / v.videoHeight);
    const w = v.videoWidth * scale;
    const h = v.videoHeight * scale;
    return { x: b.left + (b.width - w) / 2, y: b.top + (b.height - h) / 2, w, h };
  });
  return { x: r.x + fx * r.w, y: r.y + fy * r.h };
}

const pointerOn = (display: string): { x: number; y: number } => {
  const out = execFileSync('xdotool', ['getmouselocation', '--shell'], {
    env: { ...process.env, DISPLAY: display },
  }).toString();
  return { x: Number(/X=(\d+)/.exec(out)?.[1]), y: Number(/Y=(\d+)/.exec(out)?.[1]) };
};

const helperCount = () => listProcesses((a) => a.includes('helper') && a.includes('--helper-id')).length;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  stack = await startDemoStack({
    sessions: [
      { colour: hex(RED), title: 'one', width: W, height: H, bare: true },
      { colour: hex(BLUE), title: 'two', width: W, height: H, bare: true },
    ],
  });
  for (const d of stack.displays)
    execFileSync('xsetroot', ['-solid', hex(d === stack.displays[0] ? RED : BLUE)], {
      env: { ...process.env, DISPLAY: d.display },
    });
  // An xterm in session two, top-left, that writes the first line typed into it to a file.
  typed = join(mkdtempSync(join(tmpdir(), 'porthole-e2e-')), 'typed.txt');
  xterm = spawn(
    'xterm',
    ['-geometry', '30x4+0+0', '-e', 'sh', '-c', `read line; printf '%s' "$line" > '${typed}'`],
    {
      env: { ...process.env, DISPLAY: stack.displays[1]!.display },
      stdio: 'ignore',
    },
  );
  await waitFor(() => (stack.serviceOutput().match(/"helper ready"/g) ?? []).length >= 2, {
    what: 'two ready helpers',
    timeoutMs: 60_000,
    intervalMs: 100,
  });
  browser = await launchChromium();
  page = await browser.context.newPage();
  // Keep the viewer's peer connections within reach of the tests.
  await page.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    const pcs: RTCPeerConnection[] = [];
    (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs = pcs;
    window.RTCPeerConnection = class extends Native {
      constructor(config?: RTCConfiguration) {
        super(config);
        pcs.push(this);
      }
    };
  });
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.goto(await stack.loginUrl('e2e'));
  await page
    .locator(`#session option[value="${stack.displays[1]!.number}"]`)
    .waitFor({ state: 'attached', timeout: 30_000 });
}, 120_000);

afterAll(async () => {
  if (stack) writeFileSync(`${artifacts}/service.log`, stack.serviceOutput());
  if (page) await page.screenshot({ path: `${artifacts}/last.png` }).catch(() => undefined);
  xterm?.kill();
  await browser?.close();
  await stack?.stop();
});

describe('porthole end to end in Chromium', () => {
  it('lists both sessions with a helper up', async () => {
    const labels = await page.locator('#session option').allTextContents();
    expect(labels.length).toBeGreaterThanOrEqual(2);
    const values = await page
      .locator('#session option')
      .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    for (const d of stack.displays) expect(values).toContain(String(d.number));
  });

  it('connects to the second session and shows its picture', async () => {
    await page.selectOption('#session', String(stack.displays[1]!.number));
    await page.click('#connect');
    await videoShows(BLUE);
    expect(await page.evaluate(() => (document.querySelector('video') as HTMLVideoElement).videoWidth)).toBe(
      W,
    );
    await page.screenshot({ path: `${artifacts}/session-two.png` });
  });

  it('agrees with Chromium on a zero playout delay (frames shown as soon as decoded)', async () => {
    const answer = await page.evaluate(() => {
      const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
      return pcs.at(-1)?.remoteDescription?.sdp ?? '';
    });
    expect(answer).toMatch(
      /^a=extmap:\d+ http:\/\/www\.webrtc\.org\/experiments\/rtp-hdrext\/playout-delay\r?$/m,
    );
  });

  it('moves the X pointer to the spot clicked in the viewer', async () => {
    const p = await pagePoint(0.75, 0.5);
    await page.mouse.click(p.x, p.y);
    await waitFor(
      () => {
        const at = pointerOn(stack.displays[1]!.display);
        return Math.abs(at.x - 0.75 * W) <= 4 && Math.abs(at.y - 0.5 * H) <= 4;
      },
      { what: 'the X pointer at (480, 240)', timeoutMs: 10_000, intervalMs: 100 },
    );
  });

  it('types into an xterm in that session', async () => {
    const p = await pagePoint(0.1, 0.04); // over the xterm: focus follows the pointer without a WM
    await page.mouse.click(p.x, p.y);
    await waitFor(() => pointerOn(stack.displays[1]!.display).x < 0.3 * W, {
      what: 'pointer over the xterm',
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    // Physical keys: a shifted character is Shift held plus the key, as on a real keyboard.
    await page.keyboard.type('hello e2e');
    await page.keyboard.press('Shift+Digit1');
    await page.keyboard.press('Enter');
    await waitFor(() => existsSync(typed), {
      what: 'the xterm to write its file',
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    expect(readFileSync(typed, 'utf8')).toBe('hello e2e!');
  });

  it('switches to the first session without a reload and shows its picture', async () => {
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));
    await page.selectOption('#session', String(stack.displays[0]!.number));
    await videoShows(RED);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(7);
    await page.screenshot({ path: `${artifacts}/session-one.png` });
  });

  it('disconnects, leaving no desktop streaming but the helpers in place', async () => {
    const helpers = helperCount();
    await page.click('#connect'); // Disconnect
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 15_000 }).toBe('Not connected');
    const audit = readFileSync(join(stack.api.dataDir, 'audit.jsonl'), 'utf8');
    expect(audit).toMatch(/"action":"stop_desktop"/);
    await waitFor(() => /"desktop stopped"/.test(stack.serviceOutput()), {
      what: 'the service to stop the desktop',
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    expect(helperCount()).toBe(helpers);
    expect(browser.problems.filter((p) => !/favicon/.test(p))).toEqual([]);
  });
});
