/**
 * The WebSocket relay, end to end: the real API, service and helper, and the built viewer in headless
 * Chromium, once with a peer connection whose ICE never connects (the viewer falls back after its
 * documented timeout) and once with no RTCPeerConnection at all (it takes the relay at once). Both
 * times the session's known colour must reach the canvas through WebCodecs, and a click and a key
 * must reach the X session (seen by xdotool and by an xterm).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoStack, type DemoStack } from '../../src/demo/demo-stack.js';
import { waitFor } from '../fixtures/wait-for.js';
import { launchChromium, type Browser } from '../viewer/browser-fixture.js';
import { ICE_FALLBACK_MS } from '../../src/viewer/fallback-connection.js';

const W = 640;
const H = 480;
const GREEN = [40, 170, 60];
const hex = (c: number[]) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
const artifacts = 'test-results/e2e';

let stack: DemoStack;
let browser: Browser;
let typedDir: string;
let xterm: ChildProcess | undefined;

const near = (a: number[], b: number[], tol = 24) => a.every((v, i) => Math.abs(v - (b[i] as number)) <= tol);

/** Mean colour of a block of the relay canvas: the decoded picture as drawn. */
function canvasColour(page: Page, fx: number, fy: number): Promise<number[] | string> {
  return page.evaluate(
    ([fx, fy]) => {
      const c = document.querySelector('#relay-video') as HTMLCanvasElement | null;
      if (!c || c.hidden || c.width === 0)
        return c ? `canvas ${c.width}×${c.height} hidden=${c.hidden}` : 'none';
      const ctx = c.getContext('2d') as CanvasRenderingContext2D;
      const d = ctx.getImageData(Math.floor(fx * c.width) - 4, Math.floor(fy * c.height) - 4, 8, 8).data;
      const sum = [0, 0, 0];
      for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) sum[k]! += d[i + k]!;
      return sum.map((s) => Math.round(s / (d.length / 4)));
    },
    [fx, fy] as const,
  );
}

async function canvasShows(page: Page, colour: number[], name: string, timeoutMs: number): Promise<void> {
  let seen: unknown = 'nothing';
  try {
    await waitFor(
      async () => {
        seen = await canvasColour(page, 0.9, 0.9);
        return Array.isArray(seen) && near(seen, colour);
      },
      { what: `the relay canvas to show ${hex(colour)}`, timeoutMs, intervalMs: 100 },
    );
  } catch (err) {
    await page.screenshot({ path: `${artifacts}/ws-fallback-${name}-failed.png` }).catch(() => undefined);
    const status = await page
      .locator('#status')
      .textContent()
      .catch(() => '?');
    throw new Error(`${(err as Error).message} (last seen: ${JSON.stringify(seen)}, status: ${status})`, {
      cause: err,
    });
  }
}

/** How many stop_desktop commands the API has audited so far. */
const stopDesktops = (): number =>
  (readFileSync(join(stack.api.dataDir, 'audit.jsonl'), 'utf8').match(/"action":"stop_desktop"/g) ?? [])
    .length;

/** Page coordinates of a point of the remote display: the canvas sits exactly on the content. */
async function pagePoint(page: Page, fx: number, fy: number): Promise<{ x: number; y: number }> {
  const b = (await page.locator('#relay-video').boundingBox())!;
  return { x: b.x + fx * b.width, y: b.y + fy * b.height };
}

const pointer = (): { x: number; y: number } => {
  const out = execFileSync('xdotool', ['getmouselocation', '--shell'], {
    env: { ...process.env, DISPLAY: stack.displays[0]!.display },
  }).toString();
  return { x: Number(/X=(\d+)/.exec(out)?.[1]), y: Number(/Y=(\d+)/.exec(out)?.[1]) };
};

/** An xterm at the top left that writes the first line typed into it to `file`. */
function startXterm(file: string): ChildProcess {
  return spawn(
    'xterm',
    ['-geometry', '30x4+0+0', '-e', 'sh', '-c', `read line; printf '%s' "$line" > '${file}'`],
    {
      env: { ...process.env, DISPLAY: stack.displays[0]!.display },
      stdio: 'ignore',
    },
  );
}

async function openViewer(initScript: () => void): Promise<Page> {
  const page = await browser.context.newPage();
  await page.addInitScript(initScript);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(await stack.loginUrl('e2e'));
  try {
    await page
      .locator(`#session option[value="${stack.displays[0]!.number}"]`)
      .waitFor({ state: 'attached', timeout: 30_000 });
  } catch (err) {
    const text = await page.evaluate(() => document.body.innerText).catch(() => '?');
    throw new Error(`the viewer did not list the session: ${text} ${browser.problems.join('; ')}`, {
      cause: err,
    });
  }
  return page;
}

/** Clicks at (0.75, 0.5) and checks the X pointer went there; types a line into a fresh xterm. */
async function inputReachesSession(page: Page, name: string): Promise<void> {
  const p = await pagePoint(page, 0.75, 0.5);
  await page.mouse.click(p.x, p.y);
  await waitFor(
    () => {
      const at = pointer();
      return Math.abs(at.x - 0.75 * W) <= 4 && Math.abs(at.y - 0.5 * H) <= 4;
    },
    { what: 'the X pointer at (480, 240)', timeoutMs: 10_000, intervalMs: 100 },
  );
  const file = join(typedDir, `${name}.txt`);
  xterm?.kill();
  xterm = startXterm(file);
  // The xterm maps within a second or so; keep clicking over it until the pointer is there.
  const q = await pagePoint(page, 0.1, 0.04);
  await page.mouse.click(q.x, q.y);
  await waitFor(() => pointer().x < 0.3 * W, {
    what: 'pointer over the xterm',
    timeoutMs: 10_000,
    intervalMs: 100,
  });
  await new Promise((r) => setTimeout(r, 1500));
  await page.mouse.click(q.x, q.y);
  await page.keyboard.type(`relay ${name}`);
  await page.keyboard.press('Enter');
  await waitFor(() => existsSync(file), {
    what: 'the xterm to write its file',
    timeoutMs: 15_000,
    intervalMs: 100,
  });
  expect(readFileSync(file, 'utf8')).toBe(`relay ${name}`);
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  typedDir = mkdtempSync(join(tmpdir(), 'porthole-ws-e2e-'));
  stack = await startDemoStack({
    sessions: [{ colour: hex(GREEN), title: 'relay', width: W, height: H, bare: true }],
  });
  execFileSync('xsetroot', ['-solid', hex(GREEN)], {
    env: { ...process.env, DISPLAY: stack.displays[0]!.display },
  });
  await waitFor(() => /"helper ready"/.test(stack.serviceOutput()), {
    what: 'a ready helper',
    timeoutMs: 60_000,
    intervalMs: 100,
  });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  if (stack) writeFileSync(`${artifacts}/ws-fallback-service.log`, stack.serviceOutput());
  xterm?.kill();
  await browser?.close();
  await stack?.stop();
  if (typedDir) rmSync(typedDir, { recursive: true, force: true });
});

describe('the WebSocket relay in Chromium', () => {
  it('takes the relay at once when the browser has no RTCPeerConnection, and shows the desktop', async () => {
    const page = await openViewer(() => {
      delete (window as { RTCPeerConnection?: unknown }).RTCPeerConnection;
      delete (window as { webkitRTCPeerConnection?: unknown }).webkitRTCPeerConnection;
    });
    const t0 = Date.now();
    await page.click('#connect');
    await canvasShows(page, GREEN, 'no-webrtc', 30_000);
    // Well before the ICE timeout: no WebRTC attempt was made.
    const firstPictureMs = Date.now() - t0;
    console.info(`relay: Connect → first picture in ${firstPictureMs} ms`);
    expect(firstPictureMs).toBeLessThan(ICE_FALLBACK_MS);
    await expect.poll(() => page.locator('#status').textContent()).toContain('relayed over WebSocket');
    expect(await page.evaluate(() => (document.querySelector('video') as HTMLVideoElement).hidden)).toBe(
      true,
    );
    await inputReachesSession(page, 'nowebrtc');
    await page.screenshot({ path: `${artifacts}/ws-fallback-no-webrtc.png` });
    await page.click('#connect'); // Disconnect
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 15_000 }).toBe('Not connected');
    await page.close();
  });

  it('falls back to the relay when ICE never connects, and input still arrives', async () => {
    const page = await openViewer(() => {
      // A peer connection that can gather no candidate at all: ICE cannot ever connect.
      const Native = window.RTCPeerConnection;
      window.RTCPeerConnection = class extends Native {
        constructor(config?: RTCConfiguration) {
          super({ ...config, iceServers: [], iceTransportPolicy: 'relay' });
        }
      };
    });
    const stopsBefore = stopDesktops();
    const t0 = Date.now();
    await page.click('#connect');
    await expect
      .poll(() => page.locator('#status').textContent(), { timeout: 10_000 })
      .toMatch(/^Connecting/);
    await canvasShows(page, GREEN, 'ice-fails', ICE_FALLBACK_MS + 30_000);
    const fallbackMs = Date.now() - t0;
    console.info(`relay: Connect → first picture after the ICE fallback in ${fallbackMs} ms`);
    // Through the fallback: not before the documented timeout.
    expect(fallbackMs).toBeGreaterThanOrEqual(ICE_FALLBACK_MS);
    await expect.poll(() => page.locator('#status').textContent()).toContain('relayed over WebSocket');
    await inputReachesSession(page, 'icefails');
    // The abandoned WebRTC desktop was stopped (the relayed one is still up): one more stop_desktop.
    await expect.poll(stopDesktops, { timeout: 10_000 }).toBe(stopsBefore + 1);
    await page.click('#connect');
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 15_000 }).toBe('Not connected');
    // Everything of the relayed desktop is released on the helper's side once its socket closed.
    await waitFor(() => /relay socket closed/.test(stack.serviceOutput()), {
      what: 'the helper to close its relay socket',
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    expect(browser.problems.filter((p) => !/favicon|relay/.test(p))).toEqual([]);
    await page.close();
  });
});
