/**
 * The PulseAudio capture against a real, private server (test/fixtures/pulse-server.ts) run by a user
 * the test creates: the monitor of the default sink delivers contiguous 20 ms frames, a tone played
 * into the sink comes out at its frequency, the helper kept as root records as the session user, and
 * close() leaves no parec behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPulseCapture } from '../../../src/helper/audio/pulse-capture.js';
import { findPulseTarget } from '../../../src/helper/audio/pulse-server.js';
import { FRAME_BYTES } from '../../../src/helper/audio/pcm-frames.js';
import type { PcmChunk } from '../../../src/helper/audio/audio-capture.js';
import { silentLogger } from '../../../src/log/logger.js';
import { listProcesses } from '../../fixtures/processes.js';
import { havePulseAudio, startPulseServer, type PulseServer } from '../../fixtures/pulse-server.js';
import { canCreateUsers, createTestUser, type TestUser } from '../../fixtures/test-user.js';
import { dominantFrequency } from './tone.js';

const run = canCreateUsers() && havePulseAudio() ? describe : describe.skip;
let user: TestUser;
let pulse: PulseServer;

beforeAll(async () => {
  if (!canCreateUsers() || !havePulseAudio()) return;
  user = createTestUser('phpulse');
  pulse = await startPulseServer(user);
}, 30_000);

afterAll(async () => {
  await pulse?.stop();
  user?.remove();
});

const parecs = () =>
  listProcesses((argv) => argv[0]?.endsWith('parec') === true && argv.includes(`--server=${pulse.server}`));

run('PulseAudio capture (a private server, a session user)', () => {
  it('a root helper (keepRoot) records the sink monitor as the session user, and close() ends parec', async () => {
    const target = await findPulseTarget({
      env: { USER: user.name, PORTHOLE_PULSE_SERVER: pulse.server },
      uid: 0,
      lookUpUser: async () => ({ uid: user.uid, gid: user.gid, home: user.home }),
    });
    expect(target.runAs).toMatchObject({ uid: user.uid, gid: user.gid });
    const capture = await startPulseCapture({ target, log: silentLogger });
    const frames: PcmChunk[] = [];
    capture.onPcm((c) => frames.push(c));
    const playing = pulse.playTone(1000, 1.0);
    await playing;
    await new Promise((r) => setTimeout(r, 200));
    expect(parecs()).toHaveLength(1);
    await capture.close();
    expect(parecs()).toHaveLength(0);

    expect(frames.length).toBeGreaterThan(40);
    for (const f of frames) expect(f.data.length).toBe(FRAME_BYTES);
    // Contiguous: each frame is 20 ms after the one before, on the capture clock.
    for (let i = 1; i < frames.length; i++)
      expect(frames[i]!.timestampUs - frames[i - 1]!.timestampUs).toBeCloseTo(20_000, -1);
    const loud = frames.filter((f) => !f.data.equals(Buffer.alloc(FRAME_BYTES)));
    expect(loud.length).toBeGreaterThan(30);
    // The tone's frequency is the median of the loud frames' own: one 20 ms frame resolves 50 Hz, and a
    // frame with a playback underrun in it (a loaded machine) smears its spectrum to a neighbour.
    const perFrame = loud.map((f) => dominantFrequency(f.data)).sort((a, b) => a - b);
    expect(perFrame[perFrame.length >> 1]).toBe(1000);
  }, 30_000);

  it('fails as unavailable, naming the server, when nothing listens there', async () => {
    await expect(
      startPulseCapture({ target: { server: `unix:${pulse.dir}/nothing-here` }, log: silentLogger }),
    ).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining('nothing-here') });
    expect(parecs()).toHaveLength(0);
  });
});
