/**
 * Through a real TURN relay: coturn on loopback with `use-auth-secret` (the API mints time-limited
 * credentials from the shared secret), the API telling the viewer `iceTransportPolicy: 'relay'`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoStack, type DemoStack } from '../../src/demo/demo-stack.js';
import { waitFor } from '../fixtures/wait-for.js';
import { launchChromium, type Browser } from '../viewer/browser-fixture.js';
import { freePort } from '../fixtures/free-port.js';

let turn: ChildProcess;
let turnLog = '';
let stack: DemoStack;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const port = await freePort();
  const secret = randomBytes(24).toString('hex');
  turn = spawn(
    'turnserver',
    [
      '-n',
      '--listening-ip=127.0.0.1',
      '--relay-ip=127.0.0.1',
      `--listening-port=${port}`,
      '--min-port=49160',
      '--max-port=49400',
      '--use-auth-secret',
      `--static-auth-secret=${secret}`,
      '--realm=porthole.test',
      '--allow-loopback-peers',
      '--no-tls',
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
  await waitFor(() => /Total (General|UDP)|listener opened|IPv4\. UDP listener/i.test(turnLog), {
    what: 'coturn to listen',
    timeoutMs: 15_000,
    intervalMs: 100,
  });
  stack = await startDemoStack({
    sessions: [{ colour: '#208040', title: 'turn', width: 320, height: 240, bare: true }],
    ice: { stun: [], turn: [`turn:127.0.0.1:${port}?transport=udp`], turnSecret: secret, relayOnly: true },
  });
  await waitFor(() => /"helper ready"/.test(stack.serviceOutput()), {
    what: 'a ready helper',
    timeoutMs: 60_000,
    intervalMs: 100,
  });
  browser = await launchChromium();
  page = await browser.context.newPage();
  // Keep every RTCPeerConnection the viewer makes, to read its stats.
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
  await page.goto(await stack.loginUrl('turn'));
  await page.locator('#session option').first().waitFor({ state: 'attached', timeout: 30_000 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  turn?.kill();
});

describe('TURN relay', () => {
  it('connects viewer and helper through coturn when the API asks for relay only', async () => {
    await page.click('#connect');
    await page.waitForFunction(
      () => {
        const v = document.querySelector('video');
        return !!v && v.videoWidth === 320 && v.currentTime > 0;
      },
      undefined,
      { timeout: 60_000 },
    );
    // The pair in use has a relayed local candidate: the media really crosses the relay.
    const types = await page.evaluate(async () => {
      const pcs = (window as unknown as { __portholePeers?: RTCPeerConnection[] }).__portholePeers ?? [];
      const out: string[] = [];
      for (const pc of pcs) {
        const stats = await pc.getStats();
        stats.forEach(
          (s: { type: string; state?: string; nominated?: boolean; localCandidateId?: string }) => {
            if (s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated && s.localCandidateId) {
              const local = stats.get(s.localCandidateId) as { candidateType?: string } | undefined;
              out.push(local?.candidateType ?? 'unknown');
            }
          },
        );
      }
      return out;
    });
    expect(types).toContain('relay');
    // coturn accepted the minted credentials (username <expiry>:<name>) for allocations.
    const allocations = turnLog.match(/user <\d+:turn>: incoming packet ALLOCATE processed, success/g) ?? [];
    expect(allocations.length).toBeGreaterThanOrEqual(2);
  });
});
