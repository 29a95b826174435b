/**
 * The viewer's layout in headless Chromium, served under the API's CSP: at 1366×768 and 3840×2160,
 * with a landscape and a portrait test pattern, the video keeps its aspect inside the area below the
 * bar, centred between equal bars, and no visible control overlaps another. Screenshots go to
 * test-results/ for a human to look at.
 */
import { mkdir } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ONE_TIME_TOKEN,
  launchChromium,
  startViewerServer,
  type Browser,
  type ViewerServer,
} from '../viewer/browser-fixture.js';

interface Box {
  name: string;
  left: number;
  top: number;
  right: number;
  bottom: number;
}

let server: ViewerServer;
let browser: Browser;

beforeAll(async () => {
  await mkdir('test-results', { recursive: true });
  server = await startViewerServer();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Signs in through the fragment, connects to the test pattern and waits for its first frame. */
async function openTestVideo(page: Page, source: string): Promise<void> {
  await page.goto(`${server.url}/?test-video=${source}#login=${ONE_TIME_TOKEN}`);
  await page.locator('#session option').nth(1).waitFor({ state: 'attached' });
  await page.click('#connect');
  await page.waitForFunction(() => {
    const v = document.querySelector('video');
    return !!v && v.videoWidth > 0 && !v.hidden;
  });
}

/** Boxes of everything visible and interactive or overlaid: bar controls, overlays, panels. */
function visibleBoxes(page: Page): Promise<Box[]> {
  return page.evaluate(() => {
    const selectors = '#bar button, #bar select, #bar .status, #stats, .panel, .toast';
    return (
      [...document.querySelectorAll<HTMLElement>(selectors)]
        // Hidden elements have no offsetParent; an empty status line has no size.
        .filter((e) => e.offsetParent !== null && e.offsetWidth > 0 && e.offsetHeight > 0)
        .map((e) => {
          const r = e.getBoundingClientRect();
          return {
            name: e.id || e.className || e.tagName,
            left: r.left,
            top: r.top,
            right: r.right,
            bottom: r.bottom,
          };
        })
    );
  });
}

const overlaps = (a: Box, b: Box): boolean =>
  a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;

const viewports = [
  { width: 1366, height: 768 },
  { width: 3840, height: 2160 },
];
const sources = [
  { name: '1280x720', w: 1280, h: 720 },
  { name: '720x1280', w: 720, h: 1280 },
];

describe('viewer layout', () => {
  for (const vp of viewports) {
    for (const src of sources) {
      it(`${vp.width}×${vp.height}, ${src.name} source: letterboxed at its aspect, below the bar, no overlaps`, async () => {
        const page = await browser.context.newPage();
        await page.setViewportSize(vp);
        await openTestVideo(page, src.name);
        // The sign-in fragment is gone from the address bar once used.
        expect(new URL(page.url()).hash).toBe('');

        // Show everything that can be on screen at once: stats, a remote clipboard, a toast, the cursor.
        await page.click('#stats-toggle');
        await page.evaluate(() => {
          const deliver = window.__portholeDeliver!;
          deliver(JSON.stringify({ type: 'clipboard', text: 'text copied on the remote desktop' }));
          deliver(
            JSON.stringify({
              type: 'error',
              code: 'unsupported',
              message: 'Ctrl+Alt+Del is not supported on X11',
            }),
          );
        });
        await page.waitForFunction(() => /fps \d/.test(document.querySelector('#stats')?.textContent ?? ''));

        const geometry = await page.evaluate(() => {
          const rect = (sel: string) =>
            document.querySelector(sel)!.getBoundingClientRect().toJSON() as DOMRect;
          const v = document.querySelector('video')!;
          return {
            video: rect('video'),
            stage: rect('#stage'),
            bar: rect('#bar'),
            vw: v.videoWidth,
            vh: v.videoHeight,
          };
        });
        const { video, stage, bar } = geometry;
        expect([geometry.vw, geometry.vh]).toEqual([src.w, src.h]);

        // Aspect within a pixel, touching two opposite sides of the stage, centred between equal bars.
        expect(Math.abs(video.width - (video.height * src.w) / src.h)).toBeLessThanOrEqual(1);
        const fitsWidth = Math.abs(video.width - stage.width) <= 1;
        const fitsHeight = Math.abs(video.height - stage.height) <= 1;
        expect(fitsWidth || fitsHeight).toBe(true);
        expect(Math.abs(video.left - stage.left - (stage.right - video.right))).toBeLessThanOrEqual(1);
        expect(Math.abs(video.top - stage.top - (stage.bottom - video.bottom))).toBeLessThanOrEqual(1);
        expect(video.left).toBeGreaterThanOrEqual(stage.left - 0.5);
        expect(video.right).toBeLessThanOrEqual(stage.right + 0.5);
        expect(stage.bottom).toBeLessThanOrEqual(vp.height + 0.5);
        // The bar never covers the picture.
        expect(bar.bottom).toBeLessThanOrEqual(video.top + 0.5);

        const boxes = await visibleBoxes(page);
        expect(boxes.map((b) => b.name)).toEqual(
          expect.arrayContaining([
            'device',
            'session',
            'connect',
            'display',
            'ctrl-alt-del',
            'view-only',
            'stats',
          ]),
        );
        const collisions: string[] = [];
        for (let i = 0; i < boxes.length; i++) {
          for (let j = i + 1; j < boxes.length; j++) {
            if (overlaps(boxes[i]!, boxes[j]!)) collisions.push(`${boxes[i]!.name} × ${boxes[j]!.name}`);
          }
        }
        expect(collisions).toEqual([]);
        // Bar controls stay inside the viewport (the bar wraps rather than overflowing).
        for (const b of boxes) expect(b.right).toBeLessThanOrEqual(vp.width + 0.5);

        await page.screenshot({ path: `test-results/viewer-${vp.width}x${vp.height}-${src.name}.png` });
        expect(browser.problems).toEqual([]);
        await page.close();
      });
    }
  }

  it('wraps the bar on a narrow window without overlapping controls', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 640, height: 700 });
    await openTestVideo(page, '1280x720');
    const boxes = await visibleBoxes(page);
    const bar = await page.locator('#bar').boundingBox();
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) expect(overlaps(boxes[i]!, boxes[j]!)).toBe(false);
    }
    for (const b of boxes) expect(b.right).toBeLessThanOrEqual(640.5);
    const video = await page.locator('video').boundingBox();
    expect(bar!.y + bar!.height).toBeLessThanOrEqual(video!.y + 0.5);
    await page.screenshot({ path: 'test-results/viewer-640x700-1280x720.png' });
    await page.close();
  });

  it('shows the sign-in card without a token, and the reason a token is refused', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1366, height: 768 });
    await page.goto(`${server.url}/`);
    await page.locator('#login-token').fill('not-a-token');
    await page.click('#login-submit');
    await expect
      .poll(() => page.locator('#login-error').textContent())
      .toBe('This token is not valid (or has expired).');
    const card = (await page.locator('#login').boundingBox())!;
    // Centred on the page.
    expect(Math.abs(card.x + card.width / 2 - 683)).toBeLessThanOrEqual(1);
    await page.screenshot({ path: 'test-results/viewer-1366x768-sign-in.png' });

    await page.locator('#login-token').fill(ONE_TIME_TOKEN);
    await page.click('#login-submit');
    await page.locator('#bar').waitFor();
    expect(await page.locator('#login').isHidden()).toBe(true);
    await page.close();
  });
});
