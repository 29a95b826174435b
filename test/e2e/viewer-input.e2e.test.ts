/**
 * The input mapping in the real page: playwright drives a real mouse and keyboard over the test
 * pattern, and the messages the viewer would put on its DataChannels (recorded on
 * window.__portholeSent in test mode) are checked against the protocol's own validators.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseControlMessage, parseInputMessage } from '../../src/protocol/datachannel.js';
import type { SentMessage } from '../../src/viewer/test-connection.js';
import {
  ONE_TIME_TOKEN,
  launchChromium,
  startViewerServer,
  type Browser,
  type ViewerServer,
} from '../viewer/browser-fixture.js';

let server: ViewerServer;
let browser: Browser;
let page: Page;
/** The video's content rectangle in the page (the video element is placed exactly on it). */
let video: { x: number; y: number; width: number; height: number };

beforeAll(async () => {
  server = await startViewerServer();
  browser = await launchChromium();
  page = await browser.context.newPage();
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.goto(`${server.url}/?test-video=1280x720#login=${ONE_TIME_TOKEN}`);
  await page.locator('#session option').nth(1).waitFor({ state: 'attached' });
  await page.click('#connect');
  await page.waitForFunction(() => (document.querySelector('video')?.videoWidth ?? 0) > 0);
  video = (await page.locator('video').boundingBox())!;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Waits for the next animation frame (coalesced moves go out then), returns and clears what was sent. */
async function takeSent(): Promise<SentMessage[]> {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const sent = await page.evaluate(() => window.__portholeSent!.splice(0));
  // Everything the viewer sends must pass the helper's validators unchanged.
  for (const { channel, ...msg } of sent) {
    const parsed = channel === 'input' ? parseInputMessage(msg) : parseControlMessage(msg);
    expect(parsed).toEqual(msg);
  }
  return sent;
}

const at = (fx: number, fy: number): [number, number] => [
  video.x + video.width * fx,
  video.y + video.height * fy,
];

async function focusVideo(): Promise<void> {
  await page.mouse.click(...at(0.5, 0.5));
  await takeSent();
}

describe('viewer input mapping', () => {
  it('the 1280×720 pattern at 1366×768 leaves bars left and right to click on', () => {
    expect(video.x).toBeGreaterThan(20);
  });

  it('sends a pointer move normalised over the content rectangle', async () => {
    await takeSent();
    await page.mouse.move(...at(0.25, 0.75));
    const sent = await takeSent();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ channel: 'input', type: 'pointer_move' });
    const m = sent[0] as { x: number; y: number };
    expect(m.x).toBeCloseTo(0.25, 2);
    expect(m.y).toBeCloseTo(0.75, 2);
  });

  it('coalesces the moves of one frame into one message with the last position', async () => {
    await page.evaluate(
      ({ x, y, w, h }) => {
        const target = document.querySelector('video')!;
        for (let i = 1; i <= 20; i++) {
          target.dispatchEvent(
            new PointerEvent('pointermove', { bubbles: true, clientX: x + (w * i) / 40, clientY: y + h / 2 }),
          );
        }
      },
      { x: video.x, y: video.y, w: video.width, h: video.height },
    );
    const sent = await takeSent();
    expect(sent).toHaveLength(1);
    expect((sent[0] as { x: number }).x).toBeCloseTo(0.5, 2);
  });

  it('sends left, right and middle clicks with their position, the move first', async () => {
    await page.mouse.click(...at(0.1, 0.2));
    const sent = await takeSent();
    expect(sent.map((m) => m.type)).toEqual(['pointer_move', 'pointer_button', 'pointer_button']);
    expect(sent[1]).toMatchObject({ button: 'left', down: true });
    expect((sent[1] as { x: number }).x).toBeCloseTo(0.1, 2);
    expect((sent[1] as { y: number }).y).toBeCloseTo(0.2, 2);
    expect(sent[2]).toMatchObject({ button: 'left', down: false });

    await page.mouse.click(...at(0.1, 0.2), { button: 'right' });
    await page.mouse.click(...at(0.1, 0.2), { button: 'middle' });
    const buttons = (await takeSent()).filter((m) => m.type === 'pointer_button');
    expect(buttons.map((m) => m.type === 'pointer_button' && `${m.button} ${m.down}`)).toEqual([
      'right true',
      'right false',
      'middle true',
      'middle false',
    ]);
  });

  it('sends nothing for moves, clicks and wheel over the letterbox bars', async () => {
    const barX = video.x / 2;
    const y = video.y + video.height / 2;
    await page.mouse.move(barX, y);
    await page.mouse.click(barX, y);
    await page.mouse.click(barX, y, { button: 'right' });
    await page.mouse.wheel(0, 100);
    expect(await takeSent()).toEqual([]);
  });

  it('keeps a drag that leaves the video pinned to the edge and releases it', async () => {
    await page.mouse.move(...at(0.5, 0.5));
    await page.mouse.down();
    await page.mouse.move(video.x / 2, video.y + video.height / 2);
    await page.mouse.up();
    const sent = await takeSent();
    const last = sent.at(-1);
    expect(last).toMatchObject({ type: 'pointer_button', button: 'left', down: false });
    const moves = sent.filter((m) => m.type === 'pointer_move');
    expect(moves.at(-1)).toMatchObject({ x: 0 });
  });

  it('converts one wheel notch (100 px in Chromium) into 120 units, after a move to the pointer', async () => {
    await page.mouse.move(...at(0.6, 0.4));
    await takeSent();
    await page.mouse.wheel(0, 100);
    await page.mouse.wheel(0, -100);
    const sent = await takeSent();
    expect(sent.filter((m) => m.type === 'wheel')).toEqual([
      { channel: 'input', type: 'wheel', dx: 0, dy: 120 },
      { channel: 'input', type: 'wheel', dx: 0, dy: -120 },
    ]);
  });

  it('sends keys by physical code, down and up, and keeps Tab from moving the focus', async () => {
    await focusVideo();
    await page.keyboard.press('KeyA');
    await page.keyboard.press('Shift+Digit1');
    await page.keyboard.press('Tab');
    const keys = (await takeSent()).map((m) => m.type === 'key' && `${m.code} ${m.down ? 'down' : 'up'}`);
    expect(keys).toEqual([
      'KeyA down',
      'KeyA up',
      'ShiftLeft down',
      'Digit1 down',
      'Digit1 up',
      'ShiftLeft up',
      'Tab down',
      'Tab up',
    ]);
    expect(await page.evaluate(() => document.activeElement?.className)).toBe('key-sink');
  });

  it('releases held keys when the window loses focus', async () => {
    await focusVideo();
    await page.keyboard.down('ControlLeft');
    await page.evaluate(() => window.dispatchEvent(new Event('blur')));
    await page.keyboard.up('ControlLeft');
    const keys = (await takeSent()).filter((m) => m.type === 'key');
    expect(keys).toEqual([
      { channel: 'input', type: 'key', code: 'ControlLeft', down: true },
      { channel: 'input', type: 'key', code: 'ControlLeft', down: false },
    ]);
  });

  it('sends no keys while key capture is off', async () => {
    await page.click('#capture-keys');
    await focusVideo();
    await page.keyboard.press('KeyQ');
    expect((await takeSent()).filter((m) => m.type === 'key')).toEqual([]);
    await page.click('#capture-keys');
  });

  it('sends nothing at all in view-only mode', async () => {
    await page.click('#view-only');
    await takeSent();
    await page.mouse.move(...at(0.3, 0.3));
    await page.mouse.click(...at(0.4, 0.4));
    await page.mouse.wheel(0, 100);
    await page.keyboard.press('KeyZ');
    // Ctrl+Alt+Del is input too: its button is off while view-only is on.
    expect(await page.locator('#ctrl-alt-del').isDisabled()).toBe(true);
    expect(await takeSent()).toEqual([]);
    await page.click('#view-only');
    expect(await page.locator('#ctrl-alt-del').isDisabled()).toBe(false);
    await page.mouse.move(...at(0.35, 0.35));
    expect((await takeSent()).map((m) => m.type)).toEqual(['pointer_move']);
  });

  it('sends Ctrl+Alt+Del and display selection on the control channel', async () => {
    await page.click('#ctrl-alt-del');
    await page.selectOption('#display', '1');
    expect(await takeSent()).toEqual([
      { channel: 'control', type: 'ctrl_alt_del' },
      { channel: 'control', type: 'select_display', index: 1 },
    ]);
  });

  it('pastes the local clipboard to the remote, or offers a text box when reading is refused', async () => {
    await page.evaluate(() => navigator.clipboard.writeText('from the local clipboard'));
    await page.click('#paste');
    await page.waitForFunction(() => window.__portholeSent!.length > 0);
    expect(await takeSent()).toEqual([
      { channel: 'input', type: 'clipboard', text: 'from the local clipboard' },
    ]);

    await page.evaluate(() => {
      const clipboard = navigator.clipboard as Clipboard & { realReadText?: () => Promise<string> };
      clipboard.realReadText = clipboard.readText.bind(clipboard);
      clipboard.readText = () => Promise.reject(new Error('denied'));
    });
    await page.click('#paste');
    await page.locator('#paste-panel textarea').fill('typed by hand');
    await page.locator('#paste-panel button[type=submit]').click();
    expect(await page.locator('#paste-panel').isHidden()).toBe(true);
    expect((await takeSent()).filter((m) => m.type === 'clipboard')).toEqual([
      { channel: 'input', type: 'clipboard', text: 'typed by hand' },
    ]);
    await page.evaluate(() => {
      const clipboard = navigator.clipboard as Clipboard & { realReadText?: () => Promise<string> };
      clipboard.readText = clipboard.realReadText!;
    });
  });

  it('shows the remote clipboard and copies it locally on request', async () => {
    await page.evaluate(() =>
      window.__portholeDeliver!(JSON.stringify({ type: 'clipboard', text: 'remote text ✓' })),
    );
    await expect.poll(() => page.locator('#remote-clipboard pre').textContent()).toBe('remote text ✓');
    await page.click('#copy-remote-clipboard');
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe('remote text ✓');
  });

  it('draws the remote cursor at its hotspot, scaled to the video, and hides the local one', async () => {
    await page.evaluate(() => {
      const rgba = btoa(String.fromCharCode(...new Array<number>(8 * 8 * 4).fill(255)));
      window.__portholeDeliver!(
        JSON.stringify({ type: 'cursor_shape', serial: 5, width: 8, height: 8, hotX: 2, hotY: 4, rgba }),
      );
      window.__portholeDeliver!(JSON.stringify({ type: 'cursor', x: 640, y: 360, visible: true, serial: 5 }));
    });
    const box = (await page.locator('canvas.remote-cursor').boundingBox())!;
    const scale = video.width / 1280;
    expect(box.width).toBeCloseTo(8 * scale, 0);
    expect(box.x).toBeCloseTo(video.x + 640 * scale - 2 * scale, 0);
    expect(box.y).toBeCloseTo(video.y + 360 * scale - 4 * scale, 0);
    expect(await page.locator('video').evaluate((v) => getComputedStyle(v).cursor)).toBe('none');

    await page.evaluate(() =>
      window.__portholeDeliver!(
        JSON.stringify({ type: 'cursor', x: 640, y: 360, visible: false, serial: 5 }),
      ),
    );
    expect(await page.locator('canvas.remote-cursor').isHidden()).toBe(true);
  });

  it("shows the helper's errors as a toast", async () => {
    await page.evaluate(() =>
      window.__portholeDeliver!(
        JSON.stringify({
          type: 'error',
          code: 'unsupported',
          message: 'Ctrl+Alt+Del is not available on X11',
        }),
      ),
    );
    await expect.poll(() => page.locator('.toast').last().textContent()).toContain('not available on X11');
    expect(browser.problems).toEqual([]);
  });
});
