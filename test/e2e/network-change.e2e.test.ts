/**
 * A viewer whose network changes (Wi-Fi → 4G) keeps its desktop: Chromium runs in the viewer's
 * network namespace (bench/net/harness.ts), connects, and then the namespace MOVES to another address
 * (10.77.1.2 → 10.77.1.3 on its veth), so every 5-tuple of the first peer connection dies. The viewer
 * must bring the picture back through a second RTCPeerConnection to the SAME desktop
 * (`POST …/desktop/:id/peer`, audited as `add_peer`; no second `start_desktop`), input must reach the
 * X session through the new connection, and the picture gap (last frame before → first frame after,
 * from requestVideoFrameCallback) is logged for design/BENCHMARKS.md. Needs root and /dev/net/tun.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_IP, VIEWER_IP, startImpairedNetwork, type ImpairedNetwork } from '../../bench/net/harness.js';
import { harnessUnavailable } from '../../bench/net/linux-net.js';
import { PROFILES } from '../../bench/net/profiles.js';
import { forwardTcp, type TcpForward } from '../../bench/net/tcp-forward.js';
import { startDemoStack, type DemoStack } from '../../src/demo/demo-stack.js';
import { privateDisplayNumber, startXvfb, type XDisplay } from '../../src/demo/x-display.js';
import { waitFor } from '../fixtures/wait-for.js';
import { launchChromium, type Browser } from '../viewer/browser-fixture.js';

const unavailable = harnessUnavailable();
/** The viewer's address after the move: same link, new address, as a phone gets on another network. */
const MOVED_IP = '10.77.1.3';

interface PageProbe {
  __portholePeers: RTCPeerConnection[];
  /** Date.now() of every frame the video element presented. */
  __frames: number[];
  /** What happened when, for the log: ICE states of each peer connection, API requests. */
  __events: [number, string][];
}

/** Records every RTCPeerConnection and every presented video frame (requestVideoFrameCallback). */
function probeScript(): void {
  const w = window as unknown as PageProbe;
  const Original = RTCPeerConnection;
  w.__portholePeers = [];
  w.__frames = [];
  w.__events = [];
  window.RTCPeerConnection = class extends Original {
    constructor(config?: RTCConfiguration) {
      super(config);
      const n = w.__portholePeers.push(this);
      this.addEventListener('iceconnectionstatechange', () =>
        w.__events.push([Date.now(), `pc${n} ice ${this.iceConnectionState}`]),
      );
    }
  };
  const fetch = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const what = `${init?.method ?? 'GET'} ${String(input).replace(/^.*\/api\//, '/api/')}`;
    w.__events.push([Date.now(), `${what} sent`]);
    try {
      const res = await fetch(input, init);
      w.__events.push([Date.now(), `${what} ${res.status}`]);
      return res;
    } catch (err) {
      w.__events.push([Date.now(), `${what} failed`]);
      throw err;
    }
  };
  const watch = (): void => {
    const video = document.querySelector('video');
    if (!video) return void setTimeout(watch, 50);
    const onFrame = (): void => {
      w.__frames.push(Date.now());
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  };
  document.addEventListener('DOMContentLoaded', watch);
}

describe.skipIf(unavailable)(
  `network change: a viewer that moves to another address${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    let net: ImpairedNetwork;
    let stack: DemoStack | undefined;
    let xvfb: XDisplay | undefined;
    let api: TcpForward | undefined;
    let browser: Browser | undefined;
    let animation: ChildProcess | undefined;
    let page: Page;
    let leave: (() => void) | undefined;

    const pointer = (): { x: number; y: number } => {
      const out = execFileSync('xdotool', ['getmouselocation', '--shell'], {
        env: { ...process.env, DISPLAY: xvfb!.display },
      }).toString();
      return { x: Number(/X=(\d+)/.exec(out)?.[1]), y: Number(/Y=(\d+)/.exec(out)?.[1]) };
    };

    /** Moves the page's mouse to (fx, fy) of the video and waits for the X pointer to get there. */
    const pointAt = async (fx: number, fy: number, what: string): Promise<void> => {
      const box = (await page.locator('video').boundingBox())!;
      const want = { x: Math.round(fx * 320), y: Math.round(fy * 240) };
      await waitFor(
        async () => {
          await page.mouse.move(box.x + fx * box.width - 3, box.y + fy * box.height);
          await page.mouse.move(box.x + fx * box.width, box.y + fy * box.height);
          const at = pointer();
          return Math.abs(at.x - want.x) <= 3 && Math.abs(at.y - want.y) <= 3;
        },
        { what, timeoutMs: 20_000, intervalMs: 250 },
      );
    };

    const auditActions = (): { action: string; desktopSessionId?: string; ok: boolean }[] =>
      readFileSync(join(stack!.api.dataDir, 'audit.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { action: string; desktopSessionId?: string; ok: boolean });

    beforeAll(async () => {
      net = await startImpairedNetwork({ seed: 7 });
      await net.setProfile(PROFILES.lan);
      // The API, the service and its helper live in the agent's namespace (see turn-tcp.e2e.test.ts).
      leave = net.enterAgent();
      xvfb = await startXvfb(320, 240, privateDisplayNumber());
      // A changing screen, so frames keep coming (the capture sends only what changed).
      animation = spawn(
        'sh',
        [
          '-c',
          'while :; do xsetroot -solid "#204080"; sleep 0.1; xsetroot -solid "#2080a0"; sleep 0.1; done',
        ],
        { env: { ...process.env, DISPLAY: xvfb.display }, stdio: 'ignore' },
      );
      stack = await startDemoStack({
        sessions: [{ colour: '#204080', title: 'network-change', display: xvfb.display, bare: true }],
        ice: { stun: [], turn: [] },
      });
      await waitFor(() => /"helper ready"/.test(stack!.serviceOutput()), {
        what: 'a ready helper',
        timeoutMs: 60_000,
        intervalMs: 100,
      });
      api = await forwardTcp(AGENT_IP, Number(new URL(stack.api.url).port));
      browser = await launchChromium({ executablePath: net.chromiumPath });
      page = await browser.context.newPage();
      await page.addInitScript(probeScript);
      const login = new URL(await stack.loginUrl('network-change'));
      await page.goto(`http://${AGENT_IP}:${api.port}/${login.hash}`);
      const display = String(stack.displays[0]!.number);
      const option = page.locator(`#session option[value="${display}"]`);
      await waitFor(
        async () => {
          if ((await option.count()) > 0) return true;
          await page.click('#refresh').catch(() => undefined);
          return false;
        },
        { what: 'the session in the viewer', timeoutMs: 60_000, intervalMs: 1000 },
      );
      await page.selectOption('#session', display);
    }, 120_000);

    afterAll(async () => {
      animation?.kill();
      await browser?.close();
      await api?.close();
      await stack?.stop();
      await xvfb?.stop();
      leave?.();
      await net?.stop();
    });

    it('brings the picture and input back over a second peer connection to the same desktop', async () => {
      await page.click('#connect');
      await page.waitForFunction(
        () => {
          const v = document.querySelector('video');
          return !!v && v.videoWidth === 320 && (window as unknown as PageProbe).__frames.length > 10;
        },
        undefined,
        { timeout: 60_000 },
      );
      await pointAt(0.25, 0.25, 'input before the move');
      const started = auditActions().filter((l) => l.action === 'start_desktop' && l.ok);
      expect(started).toHaveLength(1);
      const desktopId = started[0]!.desktopSessionId;

      // The move: the new address first (promoted when the old one goes), then the old one removed.
      const inViewer = (...argv: string[]): string => net.exec(net.viewerNs, argv);
      inViewer('sysctl', '-q', '-w', 'net.ipv4.conf.eth0.promote_secondaries=1');
      inViewer('ip', 'addr', 'add', `${MOVED_IP}/24`, 'dev', 'eth0');
      const movedAt = Date.now();
      inViewer('ip', 'addr', 'del', `${VIEWER_IP}/24`, 'dev', 'eth0');
      inViewer('ip', 'route', 'replace', 'default', 'via', '10.77.1.1');

      try {
        await page.waitForFunction(
          (since) => {
            const w = window as unknown as PageProbe;
            const second = w.__portholePeers[1];
            return (
              (second?.iceConnectionState === 'connected' || second?.iceConnectionState === 'completed') &&
              w.__frames.some((t) => t > since + 500) &&
              w.__portholePeers[0]?.connectionState === 'closed'
            );
          },
          movedAt,
          { timeout: 60_000, polling: 100 },
        );
      } catch (err) {
        const status = await page
          .locator('#status')
          .textContent()
          .catch(() => '?');
        const peers = await page.evaluate(() =>
          (window as unknown as PageProbe).__portholePeers.map(
            (p) => `${p.connectionState}/${p.iceConnectionState}`,
          ),
        );
        throw new Error(
          `${(err as Error).message}\nstatus: ${status}\npeers: ${peers.join(', ')}\n` +
            `service (tail): ${stack!.serviceOutput().slice(-3000)}`,
          { cause: err },
        );
      }
      const frames = await page.evaluate(() => (window as unknown as PageProbe).__frames);
      // The gap: the longest stretch without a frame from shortly before the move on.
      let gapMs = 0;
      let from = 0;
      for (let i = 1; i < frames.length; i++) {
        if (frames[i]! < movedAt - 1000) continue;
        const d = frames[i]! - frames[i - 1]!;
        if (d > gapMs) {
          gapMs = d;
          from = frames[i - 1]!;
        }
      }
      const peers = await page.evaluate(() => (window as unknown as PageProbe).__portholePeers.length);
      const timeline = await page.evaluate(() => (window as unknown as PageProbe).__events);
      console.log(
        timeline
          .filter(([t]) => t >= movedAt - 500)
          .map(([t, what]) => `  ${String(t - movedAt).padStart(6)} ms  ${what}`)
          .join('\n'),
      );
      console.log(
        `network change: picture gap ${gapMs} ms (last frame ${from - movedAt} ms after the move, ` +
          `first new frame ${from + gapMs - movedAt} ms after it); ${peers} peer connections`,
      );
      // Exactly one move: one second peer connection, for the same desktop, no new start_desktop.
      expect(peers).toBe(2);
      const lines = auditActions();
      expect(lines.filter((l) => l.action === 'start_desktop')).toHaveLength(1);
      expect(lines.filter((l) => l.action === 'add_peer' && l.ok).map((l) => l.desktopSessionId)).toEqual([
        desktopId,
      ]);
      expect(lines.some((l) => l.action === 'stop_desktop')).toBe(false);
      expect(await page.locator('#status').textContent()).not.toMatch(/Reconnecting/);

      // Input now goes over the new connection's channels.
      await pointAt(0.75, 0.6, 'input after the move');
      expect(gapMs).toBeGreaterThan(0);
    });
  },
);
