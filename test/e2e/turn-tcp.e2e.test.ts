/**
 * A viewer on a network that drops UDP reaches the desktop through TURN over TCP, and in a separate
 * run over TLS. Chromium runs in a network namespace whose UDP is dropped (bench/net/harness.ts);
 * coturn, the API, the service and its helper run in the agent's namespace. The API hands the viewer
 * `turn:…?transport=tcp` or `turns:…` and the helper the UDP URL only (libjuice has no TCP TURN):
 * coturn relays between the viewer's TCP/TLS allocation and the helper's UDP one. For TLS, coturn's
 * certificate is signed by a CA made here with openssl, which Chromium trusts through an NSS database
 * of its own (its HOME is a temp dir). Needs root, /dev/net/tun and certutil (libnss3-tools).
 *
 * Chromium's checks from a TCP/TLS TURN port carry a zero ICE tiebreaker, which libjuice answers with
 * 400; the helper's TURN fix-up relay (src/helper/webrtc/turn-fixup-relay.ts) is what lets these
 * connect, so this test is its end-to-end proof.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_IP, dropUdp, startImpairedNetwork, type ImpairedNetwork } from '../../bench/net/harness.js';
import { harnessUnavailable } from '../../bench/net/linux-net.js';
import { PROFILES } from '../../bench/net/profiles.js';
import { forwardTcp, type TcpForward } from '../../bench/net/tcp-forward.js';
import { startDemoStack, type DemoStack } from '../../src/demo/demo-stack.js';
import { privateDisplayNumber, startXvfb, type XDisplay } from '../../src/demo/x-display.js';
import { CERTUTIL_MISSING, chromiumTrusting, makeCertificates } from '../fixtures/test-ca.js';
import { waitFor } from '../fixtures/wait-for.js';
import { launchChromium, type Browser } from '../viewer/browser-fixture.js';

const unavailable = harnessUnavailable() ?? CERTUTIL_MISSING;

interface SelectedPair {
  candidateType?: string;
  relayProtocol?: string;
}

/** The local candidate of each PeerConnection's selected pair, from getStats(). */
async function selectedLocalCandidates(page: Page): Promise<SelectedPair[]> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __portholePeers?: RTCPeerConnection[] }).__portholePeers ?? [];
    const out: SelectedPair[] = [];
    for (const pc of pcs) {
      const stats = await pc.getStats();
      stats.forEach((s: { type: string; selectedCandidatePairId?: string }) => {
        if (s.type !== 'transport' || !s.selectedCandidatePairId) return;
        const pair = stats.get(s.selectedCandidatePairId) as { localCandidateId?: string } | undefined;
        const local = pair?.localCandidateId ? (stats.get(pair.localCandidateId) as SelectedPair) : undefined;
        if (local) out.push({ candidateType: local.candidateType, relayProtocol: local.relayProtocol });
      });
    }
    return out;
  });
}

/** Every candidate pair with its two candidates, one line each: what to read when ICE did not connect. */
async function candidatePairs(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __portholePeers?: RTCPeerConnection[] }).__portholePeers ?? [];
    const lines: string[] = [];
    for (const pc of pcs) {
      lines.push(`pc ${pc.connectionState} ice=${pc.iceConnectionState}`);
      const stats = await pc.getStats();
      const cand = (id: unknown): string => {
        const c = stats.get(String(id)) as Record<string, unknown> | undefined;
        if (!c) return '?';
        const relay = c.relayProtocol ? `/${String(c.relayProtocol)}` : '';
        return `${String(c.candidateType)}${relay} ${String(c.address)}:${String(c.port)}`;
      };
      stats.forEach((s: Record<string, unknown>) => {
        if (s.type !== 'candidate-pair') return;
        lines.push(
          `  ${cand(s.localCandidateId)} -> ${cand(s.remoteCandidateId)}: ${String(s.state)}, ` +
            `requests ${String(s.requestsSent)}, responses ${String(s.responsesReceived)}`,
        );
      });
    }
    return lines.join('\n');
  });
}

describe.skipIf(unavailable).each([
  { transport: 'tcp', url: `turn:${AGENT_IP}:3478?transport=tcp` },
  { transport: 'tls', url: `turns:${AGENT_IP}:5349?transport=tcp` },
])(
  `TURN over $transport for a viewer whose network drops UDP${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  ({ transport, url }) => {
    let net: ImpairedNetwork;
    let dir: string;
    let turn: ChildProcess | undefined;
    let turnLog = '';
    let stack: DemoStack | undefined;
    let xvfb: XDisplay | undefined;
    let api: TcpForward | undefined;
    let browser: Browser | undefined;
    let udpDropped: () => number;
    let page: Page;
    let leave: (() => void) | undefined;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'porthole-turn-tcp-'));
      const certs = makeCertificates(dir, [AGENT_IP], 'turn');
      net = await startImpairedNetwork({ seed: 4 });
      await net.setProfile(PROFILES.lan);
      udpDropped = dropUdp(net.viewerNs);
      const secret = randomBytes(24).toString('hex');
      // The main thread stays in the agent's namespace until afterAll: coturn, the demo stack and the
      // API forwarder live there, and the forwarder opens its upstream connection to the API's
      // loopback address per viewer connection, i.e. long after beforeAll. Chromium gets into the
      // viewer's namespace through its wrapper (ip netns exec).
      leave = net.enterAgent();
      {
        turn = spawn(
          'turnserver',
          [
            '-n',
            `--listening-ip=${AGENT_IP}`,
            `--relay-ip=${AGENT_IP}`,
            '--listening-port=3478',
            '--tls-listening-port=5349',
            `--cert=${certs.cert}`,
            `--pkey=${certs.key}`,
            '--min-port=49160',
            '--max-port=49400',
            '--use-auth-secret',
            `--static-auth-secret=${secret}`,
            '--realm=porthole.test',
            '--no-dtls',
            '--no-cli',
            '--log-file=stdout',
            '--simple-log',
            '--verbose',
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        turn.stdout?.on('data', (d: Buffer) => (turnLog += d.toString()));
        turn.stderr?.on('data', (d: Buffer) => (turnLog += d.toString()));
        await waitFor(() => /TLS\/TCP listener opened|IPv4\. TLS\/TCP listener/i.test(turnLog), {
          what: 'coturn to listen',
          timeoutMs: 15_000,
          intervalMs: 100,
        });
        xvfb = await startXvfb(320, 240, privateDisplayNumber());
        stack = await startDemoStack({
          sessions: [{ colour: '#2050a0', title: 'turn-tcp', display: xvfb.display, bare: true }],
          ice: { stun: [], turn: [`turn:${AGENT_IP}:3478?transport=udp`, url], turnSecret: secret },
        });
        await waitFor(() => /"helper ready"/.test(stack!.serviceOutput()), {
          what: 'a ready helper',
          timeoutMs: 60_000,
          intervalMs: 100,
        });
        api = await forwardTcp(AGENT_IP, Number(new URL(stack.api.url).port));
      }
      browser = await launchChromium({ executablePath: chromiumTrusting(dir, net.viewerNs, certs.ca) });
      page = await browser.context.newPage();
      await page.addInitScript(() => {
        const Original = RTCPeerConnection;
        const peers: RTCPeerConnection[] = [];
        (window as unknown as { __portholePeers: RTCPeerConnection[] }).__portholePeers = peers;
        window.RTCPeerConnection = class extends Original {
          constructor(config?: RTCConfiguration) {
            super(config);
            peers.push(this);
          }
        };
      });
      const login = new URL(await stack.loginUrl('turn-tcp'));
      await page.goto(`http://${AGENT_IP}:${api.port}/${login.hash}`);
      // The session list can come up before the helper has reported in: ask again until it has.
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
      await browser?.close();
      await api?.close();
      await stack?.stop();
      await xvfb?.stop();
      turn?.kill();
      leave?.();
      await net?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it(`shows the desktop through a ${transport} relay candidate`, async () => {
      await page.click('#connect');
      await page
        .waitForFunction(
          () => {
            const v = document.querySelector('video');
            return !!v && v.videoWidth === 320 && v.currentTime > 0;
          },
          undefined,
          { timeout: 60_000 },
        )
        .catch(async (err: Error) => {
          const status = await page
            .locator('#status')
            .textContent()
            .catch(() => '?');
          const pairs = await candidatePairs(page).catch((e: Error) => `(no stats: ${e.message})`);
          throw new Error(
            `${err.message}\nviewer status: ${status}\ncandidate pairs:\n${pairs}\n` +
              `coturn (tail): ${turnLog.slice(-2000)}\nservice (tail): ${stack!.serviceOutput().slice(-2000)}`,
          );
        });
      expect(await selectedLocalCandidates(page)).toEqual([
        { candidateType: 'relay', relayProtocol: transport },
      ]);
      // Chromium did try UDP (host candidates, the UDP TURN URL), and the namespace dropped it.
      expect(udpDropped()).toBeGreaterThan(0);
    });
  },
);
