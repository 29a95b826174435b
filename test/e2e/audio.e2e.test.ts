/**
 * The session's sound end to end (issue 20): a private PulseAudio server run by the session's user (a
 * null sink as the default output), the real API, service and helper, and the built viewer in headless
 * Chromium, which plays into a null sink of its own server so nothing it plays can loop back into the
 * captured one. A 1 kHz tone written into the session's sink reaches the page's audio track: the page
 * feeds the track (also attached to the viewer's muted <audio>) to two AnalyserNodes, one that notes
 * each tone's onset, one that reads its frequency. `audio off` from the viewer (its Sound toggle) stops
 * the packets; `on` brings them back. A second stack with the service's `audio.enabled: false` answers
 * the audio section inactive: no track at all.
 *
 * Latency: from a burst's first sample in the session's sink to its onset in the page, both read as
 * performance.timeOrigin + now() (one machine, one clock). The sink's side is read by a reference
 * parec on the same monitor the helper records (porthole's own PulseAudio capture, in this process):
 * the helper's capture, encoding, transport, the browser's jitter buffer and playout are inside the
 * figure; the playing application's own buffer before the sink is not (the test's writer is a pacat
 * that a loaded machine can make underrun, which would shift its timeline, not porthole's).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoStack, type DemoStack } from '../../src/demo/demo-stack.js';
import { canCreateUsers, createTestUser, type TestUser } from '../fixtures/test-user.js';
import {
  havePulseAudio,
  startPulseServer,
  type PcmStream,
  type PulseServer,
} from '../fixtures/pulse-server.js';
import { waitFor } from '../fixtures/wait-for.js';
import { launchChromium, type Browser } from '../viewer/browser-fixture.js';
import type { AudioCapture } from '../../src/helper/audio/audio-capture.js';
import {
  audioPackets,
  audioReceiverStats,
  listen,
  matchLatencies,
  pageAudio,
  recordPeers,
  startSinkReference,
} from '../fixtures/audio-probe.js';

const artifacts = 'test-results/e2e';
const run = canCreateUsers() && havePulseAudio() ? describe : describe.skip;
const SCREEN = { width: 640, height: 480 };

let user: TestUser;
let sessionPulse: PulseServer;
let browserPulse: PulseServer;
let stack: DemoStack;
let browser: Browser;
let stream: PcmStream;
let reference: AudioCapture;
/** When each tone began in the session's sink (epoch ms, sample-accurate from the reference capture). */
const sinkOnsets: number[] = [];

/** Plays `count` bursts of `ms`, one every `everyMs`; returns when each first sample was written. */
async function bursts(count: number, ms: number, everyMs: number): Promise<number[]> {
  const at: number[] = [];
  for (let i = 0; i < count; i++) {
    at.push(stream.burst(1000, ms));
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return at;
}

async function openViewer(s: DemoStack, name: string): Promise<Page> {
  const page = await browser.context.newPage();
  await page.addInitScript(recordPeers);
  await page.goto(await s.loginUrl(name));
  await page
    .locator(`#session option[value="${s.displays[0]!.number}"]`)
    .waitFor({ state: 'attached', timeout: 30_000 });
  await page.selectOption('#session', String(s.displays[0]!.number));
  await page.click('#connect');
  await expect.poll(() => page.locator('#status').textContent(), { timeout: 30_000 }).toBe('Connected');
  return page;
}

beforeAll(async () => {
  if (!canCreateUsers() || !havePulseAudio()) return;
  mkdirSync(artifacts, { recursive: true });
  user = createTestUser('phaudio');
  sessionPulse = await startPulseServer(user);
  // Chromium (root) plays into a null sink of its own, on a server that admits it without a cookie.
  browserPulse = await startPulseServer(user, { anonymous: true });
  // The service passes PORTHOLE_* on to its helpers: this is how the helper finds the session's server.
  process.env.PORTHOLE_PULSE_SERVER = sessionPulse.server;
  stack = await startDemoStack({
    sessions: [{ colour: '#203040', title: 'audio', ...SCREEN, bare: true, username: user.name }],
  });
  await waitFor(() => /"helper ready"/.test(stack.serviceOutput()), {
    what: 'a ready helper',
    timeoutMs: 60_000,
    intervalMs: 100,
  });
  browser = await launchChromium({
    args: ['--autoplay-policy=no-user-gesture-required'],
    env: {
      ...(process.env as Record<string, string>),
      ...(process.env.AUDIO_E2E_NO_BROWSER_PULSE ? {} : { PULSE_SERVER: browserPulse.server }),
    },
  });
  stream = await sessionPulse.openStream();
  reference = await startSinkReference(sessionPulse.server, user, sinkOnsets);
}, 180_000);

afterAll(async () => {
  delete process.env.PORTHOLE_PULSE_SERVER;
  if (stack) writeFileSync(`${artifacts}/audio-service.log`, stack.serviceOutput());
  await reference?.close();
  await stream?.close();
  await browser?.close();
  await stack?.stop();
  await browserPulse?.stop();
  await sessionPulse?.stop();
  user?.remove();
});

run('the session’s sound in Chromium', () => {
  let page: Page;

  it('a 1 kHz tone played in the session is heard in the page at 1 kHz', async () => {
    page = await openViewer(stack, 'e2e-audio');
    await listen(page);
    const from = sinkOnsets.length;
    await bursts(15, 200, 1200);
    await new Promise((r) => setTimeout(r, 500));
    const sent = sinkOnsets.slice(from);
    const heard = await pageAudio(page);
    // Each tone's latency: from its start in the sink to its first onset in the page.
    const latencies = matchLatencies(sent, heard.onsets);
    const receiver = await audioReceiverStats(page);
    writeFileSync(
      `${artifacts}/audio-latency.json`,
      JSON.stringify({ sent, ...heard, latencies, receiver }, null, 1),
    );
    expect(heard.onsets.length).toBeGreaterThanOrEqual(12);
    expect(latencies.length).toBeGreaterThanOrEqual(12);
    for (const f of heard.peaks) expect(Math.abs(f - 1000)).toBeLessThan(12);
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(
      `audio latency (sink → detected in the page) ms: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)}, ` +
        `min ${sorted[0]!.toFixed(1)}, max ${sorted.at(-1)!.toFixed(1)} over ${sorted.length}`,
    );
  });

  it('`audio off` from the viewer stops the packets; `on` brings the sound back', async () => {
    await page.click('#sound'); // Sound off: the viewer says `audio off`
    await new Promise((r) => setTimeout(r, 500));
    const before = await audioPackets(page);
    const onsetsBefore = (await pageAudio(page)).onsets.length;
    await bursts(3, 300, 700);
    await new Promise((r) => setTimeout(r, 500));
    expect(await audioPackets(page)).toBe(before);
    expect((await pageAudio(page)).onsets.length).toBe(onsetsBefore);

    await page.click('#sound'); // on again
    await new Promise((r) => setTimeout(r, 300));
    await bursts(3, 300, 700);
    await expect
      .poll(async () => (await pageAudio(page)).onsets.length, { timeout: 5000 })
      .toBeGreaterThan(onsetsBefore);
    expect(await audioPackets(page)).toBeGreaterThan(before);
  });

  it('the helper stops capturing when no viewer listens', async () => {
    await page.click('#connect'); // Disconnect
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 15_000 }).toBe('Not connected');
    await waitFor(() => !/parec/.test(execPs()), { what: 'parec gone', timeoutMs: 10_000, intervalMs: 100 });
    await page.close();
  });

  it('with the service’s audio.enabled false, the desktop has no audio track', async () => {
    const off = await startDemoStack({
      sessions: [{ colour: '#302030', title: 'no audio', ...SCREEN, bare: true, username: user.name }],
      audio: { enabled: false },
    });
    try {
      await waitFor(() => /"helper ready"/.test(off.serviceOutput()), {
        what: 'a ready helper',
        timeoutMs: 60_000,
        intervalMs: 100,
      });
      const p = await openViewer(off, 'e2e-no-audio');
      await bursts(3, 300, 500);
      const directions = await p.evaluate(() =>
        (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs
          .filter((pc) => pc.connectionState !== 'closed')
          .flatMap((pc) => pc.getTransceivers())
          .filter((t) => t.receiver.track.kind === 'audio')
          .map((t) => t.currentDirection),
      );
      expect(directions).toEqual(['inactive']);
      expect(await audioPackets(p)).toBe(0);
      expect(
        await p.evaluate(() => (document.getElementById('remote-audio') as HTMLAudioElement).srcObject),
      ).toBeNull();
      expect(await p.isDisabled('#sound')).toBe(true);
      await p.close();
    } finally {
      await off.stop();
    }
  });
});

/** The command names of the session user's processes. */
function execPs(): string {
  return execFileSync('ps', ['-u', user.name, '-o', 'comm='], { encoding: 'utf8' });
}
