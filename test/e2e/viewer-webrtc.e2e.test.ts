/**
 * The real WebRTC path, end to end inside one headless Chromium: the stub API hands the viewer's
 * offer to a second page that plays the helper (answers with a canvas track, reads the
 * DataChannels), so the offer's shape, video, input over the DataChannel, stats, session switching,
 * reconnection after a drop and API error messages are all checked without a real helper.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseControlMessage, parseInputMessage } from '../../src/protocol/datachannel.js';
import {
  ONE_TIME_TOKEN,
  SESSION_TOKEN,
  defaultRoutes,
  launchChromium,
  startViewerServer,
  type Browser,
  type ViewerServer,
} from '../viewer/browser-fixture.js';

interface FakeHelperWindow {
  answer(offer: string): Promise<string>;
  dropLatest(): void;
  received: { label: string; data: string }[];
}

let server: ViewerServer;
let browser: Browser;
let viewer: Page;
let helper: Page;
let desktops = 0;
let failNextStart: { status: number; code: string; message: string } | undefined;

/** Installs the fake helper: one RTCPeerConnection per desktop request, video from a canvas. */
async function installFakeHelper(page: Page): Promise<void> {
  await page.goto('about:blank');
  await page.evaluate(() => {
    const w = window as unknown as FakeHelperWindow & { peers: RTCPeerConnection[] };
    w.peers = [];
    w.received = [];
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 480;
    const ctx = canvas.getContext('2d')!;
    let hue = 0;
    setInterval(() => {
      hue = (hue + 7) % 360;
      ctx.fillStyle = `hsl(${hue} 80% 50%)`;
      ctx.fillRect(0, 0, 640, 480);
    }, 50);
    const stream = canvas.captureStream(20);
    w.dropLatest = () => w.peers.at(-1)?.close();
    w.answer = async (offer) => {
      const pc = new RTCPeerConnection();
      w.peers.push(pc);
      pc.ondatachannel = ({ channel }) => {
        channel.onmessage = (m) => w.received.push({ label: channel.label, data: String(m.data) });
        const hello = (): void => {
          if (channel.label !== 'control') return;
          const displays = [{ index: 0, name: 'LOOP-1', x: 0, y: 0, width: 640, height: 480, primary: true }];
          channel.send(JSON.stringify({ type: 'displays', displays, current: 0 }));
        };
        if (channel.readyState === 'open') hello();
        else channel.onopen = hello;
      };
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      const transceiver = pc.getTransceivers()[0]!;
      await transceiver.sender.replaceTrack(stream.getVideoTracks()[0]!);
      transceiver.direction = 'sendonly';
      await pc.setLocalDescription(await pc.createAnswer());
      await new Promise<void>((resolve) => {
        if (pc.iceGatheringState === 'complete') resolve();
        pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
      });
      return pc.localDescription!.sdp;
    };
  });
}

beforeAll(async () => {
  const routes = defaultRoutes();
  routes['POST /api/devices/dev-1/desktop'] = async (req) => {
    if (req.authorization !== `Bearer ${SESSION_TOKEN}`) return { status: 401, body: {} };
    if (failNextStart) {
      const { status, code, message } = failNextStart;
      failNextStart = undefined;
      return { status, body: { error: { code, message } } };
    }
    const { offer } = req.body as { offer: string };
    const answer = await helper.evaluate((o) => (window as unknown as FakeHelperWindow).answer(o), offer);
    desktops++;
    return { body: { sessionId: `desk-${desktops}`, answer } };
  };
  for (const n of [1, 2, 3, 4, 5, 6]) {
    routes[`DELETE /api/devices/dev-1/desktop/desk-${n}`] = () => ({
      body: { sessionId: `desk-${n}`, stopped: true },
    });
  }
  server = await startViewerServer(routes);
  browser = await launchChromium();
  helper = await browser.context.newPage();
  await installFakeHelper(helper);
  viewer = await browser.context.newPage();
  await viewer.setViewportSize({ width: 1366, height: 768 });
  await viewer.goto(`${server.url}/#login=${ONE_TIME_TOKEN}`);
  await viewer.locator('#session option').nth(1).waitFor({ state: 'attached' });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const desktopPosts = () => server.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/desktop'));
const deletes = () =>
  server.requests.filter((r) => r.method === 'DELETE').map((r) => r.path.split('/').pop());

async function waitForVideo(): Promise<void> {
  await viewer.waitForFunction(() => {
    const v = document.querySelector('video');
    return !!v && !v.hidden && v.videoWidth === 640 && v.currentTime > 0;
  });
  await expect.poll(() => viewer.locator('#status').textContent()).toBe('Connected');
}

describe('viewer over real WebRTC (fake helper in a second page)', () => {
  it('posts a non-trickle offer: receive-only H.264 first, three DataChannels, candidates included', async () => {
    await viewer.click('#connect');
    await waitForVideo();
    const post = desktopPosts()[0]!;
    expect(post.authorization).toBe(`Bearer ${SESSION_TOKEN}`);
    const body = post.body as { offer: string; targetSessionId: number };
    expect(body.targetSessionId).toBe(1);
    const sdp = body.offer;
    expect(sdp).toMatch(/^v=0/);
    expect(sdp).toMatch(/a=recvonly/);
    expect(sdp).toMatch(/m=application \d+ UDP\/DTLS\/SCTP webrtc-datachannel/);
    expect(sdp).toMatch(/a=candidate:/);
    // Debian's Chromium has H.264; mode 1 must be the first payload type of the video section.
    const first = /m=video \d+ \S+ (\d+)/.exec(sdp)![1]!;
    expect(sdp).toMatch(new RegExp(`a=rtpmap:${first} H264/90000`));
    expect(sdp).toMatch(new RegExp(`a=fmtp:${first} .*packetization-mode=1`));
    await expect.poll(() => viewer.locator('#display option').first().textContent()).toContain('LOOP-1');
  });

  it('sends a heartbeat on the control channel every second', async () => {
    const heartbeats = () =>
      helper.evaluate(() =>
        (window as unknown as FakeHelperWindow).received.filter((r) => r.label === 'control'),
      );
    const first = (await heartbeats()).length;
    await viewer.waitForTimeout(2500);
    const received = await heartbeats();
    // 1 s apart: two or three in 2.5 s, whatever the phase.
    expect(received.length - first).toBeGreaterThanOrEqual(2);
    expect(received.length - first).toBeLessThanOrEqual(3);
    for (const r of received) expect(parseControlMessage(JSON.parse(r.data))).toEqual({ type: 'heartbeat' });
  });

  it('delivers input over the real input DataChannel in the protocol shape', async () => {
    const box = (await viewer.locator('video').boundingBox())!;
    await viewer.mouse.click(box.x + box.width / 2, box.y + box.height / 4);
    await viewer.keyboard.press('KeyH');
    const inputReceived = () =>
      helper.evaluate(() =>
        (window as unknown as FakeHelperWindow).received.filter((r) => r.label === 'input'),
      );
    await expect.poll(async () => (await inputReceived()).length).toBeGreaterThanOrEqual(5);
    const received = await inputReceived();
    expect(new Set(received.map((r) => r.label))).toEqual(new Set(['input']));
    const msgs = received.map((r) => parseInputMessage(JSON.parse(r.data)));
    expect(msgs.map((m) => (m.type === 'key' ? `${m.code} ${m.down}` : m.type))).toEqual([
      'pointer_move',
      'pointer_button',
      'pointer_button',
      'KeyH true',
      'KeyH false',
    ]);
    expect(msgs[1]).toMatchObject({
      button: 'left',
      down: true,
      x: expect.closeTo(0.5, 2),
      y: expect.closeTo(0.25, 2),
    });
  });

  it('shows live statistics from getStats()', async () => {
    await viewer.click('#stats-toggle');
    await expect
      .poll(() => viewer.locator('#stats').textContent(), { timeout: 15_000 })
      .toMatch(/size 640×480/);
    await expect.poll(() => viewer.locator('#stats').textContent(), { timeout: 15_000 }).toMatch(/fps [1-9]/);
    await expect
      .poll(() => viewer.locator('#stats').textContent(), { timeout: 15_000 })
      .toMatch(/rtt \d+ ms/);
    await viewer.click('#stats-toggle');
  });

  it('switches session without a reload: stops this desktop, starts one on the other session', async () => {
    await viewer.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    await viewer.selectOption('#session', '2');
    await expect.poll(() => desktopPosts().length).toBe(2);
    await waitForVideo();
    expect(deletes()).toEqual(['desk-1']);
    expect((desktopPosts()[1]!.body as { targetSessionId: number }).targetSessionId).toBe(2);
    expect(await viewer.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
  });

  it('reconnects with a new offer after the peer drops', async () => {
    await helper.evaluate(() => (window as unknown as FakeHelperWindow).dropLatest());
    await expect
      .poll(() => viewer.locator('#status').textContent(), { timeout: 60_000, interval: 100 })
      .toMatch(/Reconnecting/);
    await expect.poll(() => desktopPosts().length, { timeout: 60_000 }).toBe(3);
    await waitForVideo();
    expect(deletes()).toContain('desk-2');
    expect((desktopPosts()[2]!.body as { targetSessionId: number }).targetSessionId).toBe(2);
  });

  it('stops retrying when the API refuses the session, and offers a Reconnect button that works', async () => {
    failNextStart = { status: 404, code: 'no_such_session', message: 'Session 2 has ended' };
    await helper.evaluate(() => (window as unknown as FakeHelperWindow).dropLatest());
    await expect
      .poll(() => viewer.locator('#status').textContent(), { timeout: 15_000 })
      .toBe('Disconnected: Session 2 has ended');
    expect(await viewer.locator('#connect').textContent()).toBe('Reconnect');
    expect(await viewer.locator('#ctrl-alt-del').isDisabled()).toBe(true);
    await viewer.click('#connect');
    await waitForVideo();
    expect(desktopPosts()).toHaveLength(5);
  });

  it('disconnects with a DELETE for the current desktop', async () => {
    await viewer.click('#connect');
    await expect.poll(() => viewer.locator('#status').textContent()).toBe('Not connected');
    await expect.poll(() => deletes()).toContain('desk-4');
    expect(await viewer.locator('#connect').textContent()).toBe('Connect');
  });

  it("shows the API's error message when the desktop cannot start", async () => {
    failNextStart = {
      status: 503,
      code: 'helper_unavailable',
      message: 'The helper in session 1 is not available',
    };
    await viewer.selectOption('#session', '1');
    await viewer.click('#connect');
    await expect
      .poll(() => viewer.locator('.toast').last().textContent())
      .toBe('The helper in session 1 is not available');
    await expect.poll(() => viewer.locator('#connect').textContent()).toBe('Connect');
    // The refused requests (the 404 and 503 above) are logged by Chromium; nothing else may be.
    expect(browser.problems.filter((p) => !/status of (404|503)/.test(p))).toEqual([]);
  });
});
