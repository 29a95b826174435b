/**
 * Synthetic capture → real encoder (ffmpeg/x264) → node-datachannel sender → a node-datachannel
 * receiver in the test, which depacketizes and decodes (ffmpeg) what arrived.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStamp } from '../../../src/helper/capture/frame-stamp.js';
import { isIdrAccessUnit } from '../../../src/helper/encode/annexb.js';
import { createDefaultDesktopHost } from '../../../src/helper/host/default-wiring.js';
import type { DesktopHost } from '../../../src/helper/host/desktop-host.js';
import { silentLogger } from '../../../src/log/logger.js';
import { H264Depacketizer, connectTestOfferer, type TestOfferer } from '../../fixtures/webrtc-offerer.js';
import { waitFor } from '../../fixtures/wait-for.js';
import { decodeH264 } from '../encode/decode.js';

const displays = [
  { width: 640, height: 360 },
  { width: 320, height: 240 },
];

const isKey = (au: Buffer): boolean => isIdrAccessUnit(au);

describe('helper media pipeline over WebRTC', () => {
  let host: DesktopHost;
  let viewer: TestOfferer;
  const depack = new H264Depacketizer();

  beforeAll(async () => {
    host = createDefaultDesktopHost({
      log: silentLogger,
      capture: 'synthetic',
      input: 'fake',
      fps: 30,
      syntheticDisplays: displays,
    });
    const caps = await host.capabilities();
    expect(caps.displays.map((d) => [d.width, d.height])).toEqual([
      [640, 360],
      [320, 240],
    ]);
    ({ viewer } = await connectTestOfferer(
      async (offer, v) => {
        v.onRtp((p) => depack.push(p));
        const answer = await host.start({
          type: 'desktop_start',
          sessionId: 'd1',
          offer,
          iceServers: [],
          displayIndex: 0,
        });
        if (answer === undefined) throw new Error('the host answered an offer without an SDP answer');
        return { answer, dispose: () => host.stop('d1') };
      },
      { readyTimeoutMs: 15_000 },
    ));
  }, 30_000);

  afterAll(async () => {
    viewer?.close();
    await host?.close();
  });

  it('delivers frames in order whose decoded pixels carry the frame numbers sent', async () => {
    await waitFor(() => depack.accessUnits.length > 20, {
      what: 'twenty access units',
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    const units = [...depack.accessUnits];
    const first = units.findIndex(isKey);
    expect(first).toBeGreaterThanOrEqual(0);
    const frames = await decodeH264(Buffer.concat(units.slice(first)), 640, 360);
    const stamps = frames.map((f) => readStamp(f, 640, 360, 640 * 4)).filter((s) => s !== null);
    expect(stamps.length).toBeGreaterThan(frames.length * 0.9);
    const numbers = stamps.map((s) => s.frame);
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]).toBeGreaterThan(numbers[i - 1] as number);
  });

  it('answers a PLI with a keyframe within a few frames', async () => {
    const before = depack.accessUnits.length;
    expect(viewer.sendPli()).toBe(true);
    await waitFor(() => depack.accessUnits.slice(before).some(isKey), {
      what: 'a keyframe after the PLI',
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    const after = depack.accessUnits.slice(before);
    const k = after.findIndex(isKey);
    expect(k).toBeGreaterThanOrEqual(0);
    expect(k).toBeLessThanOrEqual(4);
  });

  it('switches display mid-session without a new peer: a keyframe at the new size follows', async () => {
    const before = depack.accessUnits.length;
    viewer.channels.control.sendMessage(JSON.stringify({ type: 'select_display', index: 1 }));
    await waitFor(
      () => {
        const later = depack.accessUnits.slice(before);
        const k = later.findLastIndex(isKey);
        return k >= 0 && later.length - k > 5;
      },
      { what: 'frames after a keyframe at the new size', timeoutMs: 15_000, intervalMs: 100 },
    );
    const after = depack.accessUnits.slice(before);
    // The first keyframe after the switch whose stream decodes at 320×240 with valid stamps.
    const keys = after.map((u, i) => (isKey(u) ? i : -1)).filter((i) => i >= 0);
    expect(keys.length).toBeGreaterThan(0);
    const last = keys[keys.length - 1] as number;
    const frames = await decodeH264(Buffer.concat(after.slice(last)), 320, 240);
    expect(frames.length).toBeGreaterThan(3);
    expect(frames.every((f) => readStamp(f, 320, 240, 320 * 4) !== null)).toBe(true);
    const msgs = viewer.received('control').map((t) => JSON.parse(t) as { type: string; current?: number });
    expect(msgs.some((m) => m.type === 'displays' && m.current === 1)).toBe(true);
  });

  it('answers Ctrl+Alt+Del on X11/fake input with an unsupported error', async () => {
    viewer.channels.control.sendMessage(JSON.stringify({ type: 'ctrl_alt_del' }));
    await waitFor(() => viewer.received('control').some((t) => t.includes('ctrl_alt_del')), {
      what: 'the error reply',
      timeoutMs: 5000,
      intervalMs: 100,
    });
    const msgs = viewer
      .received('control')
      .map((t) => JSON.parse(t) as { type: string; code?: string; about?: string });
    expect(
      msgs.some((m) => m.type === 'error' && m.code === 'unsupported' && m.about === 'ctrl_alt_del'),
    ).toBe(true);
  });
});
