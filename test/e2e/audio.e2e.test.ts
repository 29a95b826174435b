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
import { startDemoStack } from '../../src/demo/demo-stack.js';
import { canCreateUsers } from '../fixtures/test-user.js';
import { havePulseAudio } from '../fixtures/pulse-server.js';
import { waitFor } from '../fixtures/wait-for.js';
import {
  audioPackets,
  listen,
  measureLatency,
  pageAudio,
  startAudioRig,
  type AudioRig,
} from '../fixtures/audio-probe.js';

const artifacts = 'test-results/e2e';
const run = canCreateUsers() && havePulseAudio() ? describe : describe.skip;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let rig: AudioRig;

beforeAll(async () => {
  if (!canCreateUsers() || !havePulseAudio()) return;
  mkdirSync(artifacts, { recursive: true });
  rig = await startAudioRig({ artifacts });
}, 180_000);

afterAll(async () => {
  await rig?.stop();
});

/** How many parec the session user runs: the helper's, and the test's reference on the same monitor. */
const parecs = (): number =>
  execFileSync('ps', ['-u', rig.user.name, '-o', 'comm='], { encoding: 'utf8' })
    .split('\n')
    .filter((c) => c.trim() === 'parec').length;

run('the session’s sound in Chromium', () => {
  let page: Page;

  it('a 1 kHz tone played in the session is heard in the page at 1 kHz', async () => {
    page = await rig.openViewer('e2e-audio');
    await listen(page);
    const figures = await measureLatency(rig, page, 15);
    writeFileSync(`${artifacts}/audio-latency.json`, JSON.stringify(figures, null, 1));
    expect(figures.bursts).toBeGreaterThanOrEqual(14);
    expect(figures.latencies.length).toBeGreaterThanOrEqual(12);
    for (const f of figures.peaks) expect(Math.abs(f - 1000)).toBeLessThan(12);
    console.log(
      `audio latency (sink → detected in the page) ms: median ${figures.median.toFixed(1)}, ` +
        `min ${figures.min.toFixed(1)}, max ${figures.max.toFixed(1)} over ${figures.latencies.length}; ` +
        `jitter buffer ${figures.jitterBufferMs.toFixed(1)} ms, playout ${figures.playoutMs.toFixed(1)} ms`,
    );
  });

  it('`audio off` from the viewer stops the packets; `on` brings the sound back', async () => {
    await page.click('#sound'); // Sound off: the viewer says `audio off`
    await sleep(500);
    const before = await audioPackets(page);
    const onsetsBefore = (await pageAudio(page)).onsets.length;
    await rig.bursts(3, 300, 700);
    await sleep(500);
    expect(await audioPackets(page)).toBe(before);
    expect((await pageAudio(page)).onsets.length).toBe(onsetsBefore);

    await page.click('#sound'); // on again
    await sleep(300);
    await rig.bursts(3, 300, 700);
    await expect
      .poll(async () => (await pageAudio(page)).onsets.length, { timeout: 5000 })
      .toBeGreaterThan(onsetsBefore);
    expect(await audioPackets(page)).toBeGreaterThan(before);
  });

  it('the helper stops capturing when no viewer listens', async () => {
    expect(parecs()).toBe(2);
    await page.click('#connect'); // Disconnect
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 15_000 }).toBe('Not connected');
    await waitFor(() => parecs() === 1, {
      what: "the helper's parec gone",
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    await page.close();
  });

  it('with the service’s audio.enabled false, the desktop has no audio track', async () => {
    const off = await startDemoStack({
      sessions: [
        {
          colour: '#302030',
          title: 'no audio',
          width: 640,
          height: 480,
          bare: true,
          username: rig.user.name,
        },
      ],
      audio: { enabled: false },
    });
    try {
      await waitFor(() => /"helper ready"/.test(off.serviceOutput()), {
        what: 'a ready helper',
        timeoutMs: 60_000,
        intervalMs: 100,
      });
      const p = await rig.openViewer('e2e-no-audio', off);
      await rig.bursts(3, 300, 500);
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
