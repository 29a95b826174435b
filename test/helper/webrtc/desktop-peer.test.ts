import { afterEach, describe, expect, it } from 'vitest';
import { createDesktopPeer, type DesktopPeer } from '../../../src/helper/webrtc/desktop-peer.js';
import type { ControlMessage, InputMessage } from '../../../src/protocol/datachannel.js';
import {
  buildFir,
  buildReceiverReport,
  connectTestOfferer,
  createTestOfferer,
  rtpHeaderExtensions,
  H264Depacketizer,
  type TestOfferer,
} from '../../fixtures/webrtc-offerer.js';
import { waitFor } from '../../fixtures/wait-for.js';
import { decodeFrameHashes, encodeTestStream, splitAccessUnits } from './h264-stream.js';
import { type Logger } from '../../../src/log/logger.js';

interface LogLine {
  level: string;
  obj: object;
  msg: string | undefined;
}
function recordingLog(): Pick<Logger, 'debug' | 'info' | 'warn' | 'error'> & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

async function connectedPair(
  opts: { maxMessagesPerSecond?: number; keyframeMinIntervalMs?: number; now?: () => number } = {},
): Promise<{
  viewer: TestOfferer;
  peer: DesktopPeer;
  log: ReturnType<typeof recordingLog>;
}> {
  const log = recordingLog();
  const { viewer, peer } = await connectTestOfferer(async (offer) => {
    const made = await createDesktopPeer({ offer, iceServers: [], log, ...opts });
    return { ...made, dispose: () => made.peer.close() };
  });
  cleanup.push(() => viewer.close());
  cleanup.push(() => peer.close());
  await waitFor(() => peer.state === 'connected', { what: 'helper connected' });
  return { viewer, peer, log };
}

describe('createDesktopPeer', () => {
  it('answers with the offer’s packetization-mode=1 payload type and candidates', async () => {
    const viewer = await createTestOfferer();
    cleanup.push(() => viewer.close());
    const { answer, peer } = await createDesktopPeer({
      offer: viewer.offer,
      iceServers: [],
      log: recordingLog(),
    });
    cleanup.push(() => peer.close());
    expect(answer).toMatch(/^m=video \d+ UDP\/TLS\/RTP\/SAVPF 106\r?$/m);
    expect(answer).toMatch(/^a=sendonly\r?$/m);
    expect(answer).toMatch(/^a=candidate:/m);
    expect(answer).toMatch(/^a=mid:0\r?$/m);
  });

  it('refuses an offer without video', async () => {
    const viewer = await createTestOfferer({ noVideo: true });
    cleanup.push(() => viewer.close());
    await expect(
      createDesktopPeer({ offer: viewer.offer, iceServers: [], log: recordingLog() }),
    ).rejects.toThrow(/no video section/);
  });

  it('connects, delivers validated input and control messages and sends replies', async () => {
    const { viewer, peer } = await connectedPair();
    const inputs: InputMessage[] = [];
    const controls: ControlMessage[] = [];
    peer.onInput((m) => inputs.push(m));
    peer.onControl((m) => controls.push(m));
    viewer.channels.input.sendMessage(JSON.stringify({ type: 'pointer_move', x: 0.25, y: 0.75 }));
    viewer.channels.input.sendMessage(JSON.stringify({ type: 'key', code: 'KeyA', down: true }));
    viewer.channels.control.sendMessage(JSON.stringify({ type: 'select_display', index: 1 }));
    await waitFor(() => inputs.length === 2 && controls.length === 1, { what: 'messages' });
    expect(inputs).toEqual([
      { type: 'pointer_move', x: 0.25, y: 0.75 },
      { type: 'key', code: 'KeyA', down: true },
    ]);
    expect(controls).toEqual([{ type: 'select_display', index: 1 }]);

    expect(peer.sendControl({ type: 'error', code: 'unsupported', message: 'no' })).toBe(true);
    expect(peer.sendCursor({ type: 'cursor', x: 3, y: 4, visible: true, serial: 1 })).toBe(true);
    await waitFor(() => viewer.received('control').length === 1 && viewer.received('cursor').length === 1, {
      what: 'replies',
    });
    expect(JSON.parse(viewer.received('control')[0]!)).toEqual({
      type: 'error',
      code: 'unsupported',
      message: 'no',
    });
  });

  it('drops 20 kinds of bad messages and a flood, logs them sparingly, and keeps working', async () => {
    // The rate limit runs on a clock that stands still until the test moves it: the bucket holds the
    // 200 messages of one second, however long the flood takes to arrive.
    let now = 0;
    const { viewer, peer, log } = await connectedPair({ maxMessagesPerSecond: 200, now: () => now });
    const inputs: InputMessage[] = [];
    const controls: ControlMessage[] = [];
    peer.onInput((m) => inputs.push(m));
    peer.onControl((m) => controls.push(m));
    const bad: (string | Buffer)[] = [
      'not json',
      '',
      'null',
      '[]',
      '42',
      '"text"',
      '{}',
      JSON.stringify({ type: 'nope' }),
      JSON.stringify({ type: 'pointer_move', x: 2, y: 0 }),
      JSON.stringify({ type: 'pointer_move', x: 0.5 }),
      JSON.stringify({ type: 'pointer_move', x: 0.5, y: 0.5, extra: 1 }),
      JSON.stringify({ type: 'pointer_button', button: 'fourth', down: true }),
      JSON.stringify({ type: 'pointer_button', button: 'left', down: 'yes' }),
      JSON.stringify({ type: 'wheel', dx: 1e9, dy: 0 }),
      JSON.stringify({ type: 'key', code: 'Key A', down: true }),
      JSON.stringify({ type: 'key', code: 'x'.repeat(64), down: true }),
      JSON.stringify({ type: 'text', text: '' }),
      JSON.stringify({ type: 'text', text: 'x'.repeat(5000) }),
      JSON.stringify({ type: 'clipboard', text: 7 }),
      Buffer.from(JSON.stringify({ type: 'pointer_move', x: 0.5, y: 0.5 })),
    ];
    expect(bad).toHaveLength(20);
    for (const m of bad) {
      if (typeof m === 'string') viewer.channels.input.sendMessage(m);
      else viewer.channels.input.sendMessageBinary(m);
    }
    viewer.channels.control.sendMessage(JSON.stringify({ type: 'select_display', index: 99 }));
    viewer.channels.control.sendMessage(JSON.stringify({ type: 'rate', fps: 0 }));
    // A flood: far more than the limit in one burst.
    const flood = JSON.stringify({ type: 'pointer_move', x: 0.1, y: 0.1 });
    for (let i = 0; i < 2000; i++) viewer.channels.input.sendMessage(flood);
    const seen = (c: { accepted: number; invalid: number; rateLimited: number }): number =>
      c.accepted + c.invalid + c.rateLimited;
    await waitFor(() => seen(peer.messageCounts.input) === 2020 && seen(peer.messageCounts.control) === 2, {
      what: 'every message to reach the gates',
      timeoutMs: 30_000,
    });
    // The 20 bad messages took 20 of the 200 tokens, the flood the other 180.
    expect(peer.messageCounts.input).toEqual({ accepted: 180, invalid: 20, rateLimited: 1820 });
    expect(peer.messageCounts.control).toEqual({ accepted: 0, invalid: 2, rateLimited: 0 });
    now += 1000; // the bucket refills
    viewer.channels.input.sendMessage(JSON.stringify({ type: 'key', code: 'Enter', down: true }));
    viewer.channels.control.sendMessage(JSON.stringify({ type: 'keyframe' }));
    await waitFor(() => inputs.some((m) => m.type === 'key') && controls.length === 1, {
      what: 'valid messages after the bad',
    });

    expect(inputs.filter((m) => m.type === 'pointer_move')).toHaveLength(180);
    expect(controls).toEqual([{ type: 'keyframe' }]);
    const floodLines = log.lines.filter((l) => l.msg?.includes('flood'));
    expect(floodLines.length).toBe(1);
    const badLines = log.lines.filter((l) => l.msg === 'bad message dropped');
    expect(badLines.length).toBeGreaterThanOrEqual(10);
    expect(badLines.length).toBeLessThanOrEqual(22);
    expect(peer.state).toBe('connected');
    // Video still flows.
    let rtp = 0;
    viewer.onRtp(() => rtp++);
    await waitFor(() => peer.sendVideo(Buffer.from([0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00]), 0), {
      what: 'video send',
    });
    await waitFor(() => rtp > 0, { what: 'RTP after the flood' });
  });

  it('asks the viewer to show frames at once (zero playout delay) when it offers the extension', async () => {
    const log = recordingLog();
    const { viewer, peer, answer } = await connectTestOfferer(
      async (offer) => {
        const made = await createDesktopPeer({ offer, iceServers: [], log });
        return { ...made, dispose: () => made.peer.close() };
      },
      { playoutDelayExtId: 9 },
    );
    cleanup.push(() => viewer.close());
    cleanup.push(() => peer.close());
    expect(answer).toMatch(
      /^a=extmap:9 http:\/\/www\.webrtc\.org\/experiments\/rtp-hdrext\/playout-delay\r?$/m,
    );
    const packets: Buffer[] = [];
    viewer.onRtp((p) => packets.push(p));
    const idr = Buffer.from([0, 0, 0, 1, 0x65, 0x88, 0x84, 0x21, 0xa0]);
    await waitFor(() => peer.sendVideo(idr, 0), { what: 'video track open' });
    await waitFor(() => packets.length > 0, { what: 'an RTP packet' });
    // Three bytes: 12 bits of minimum and 12 of maximum delay, in 10 ms units; both zero.
    expect(rtpHeaderExtensions(packets[0]!).get(9)).toEqual(Buffer.from([0, 0, 0]));
  });

  it('sends no playout delay when the viewer did not offer it', async () => {
    const { viewer, peer } = await connectedPair();
    const packets: Buffer[] = [];
    viewer.onRtp((p) => packets.push(p));
    const idr = Buffer.from([0, 0, 0, 1, 0x65, 0x88, 0x84, 0x21, 0xa0]);
    await waitFor(() => peer.sendVideo(idr, 0), { what: 'video track open' });
    await waitFor(() => packets.length > 0, { what: 'an RTP packet' });
    expect([...rtpHeaderExtensions(packets[0]!).keys()]).toEqual([]);
  });

  it('sends H.264 that the viewer reassembles and decodes frame for frame', async () => {
    const stream = await encodeTestStream(2);
    const units = splitAccessUnits(stream);
    expect(units).toHaveLength(60);
    const { viewer, peer } = await connectedPair();
    const depacketizer = new H264Depacketizer();
    viewer.onRtp((p) => depacketizer.push(p));
    // The track opens with the DTLS-SRTP handshake, shortly after ICE.
    await waitFor(() => peer.sendVideo(units[0]!, 0), { what: 'video track open' });
    for (let i = 1; i < units.length; i++) {
      expect(peer.sendVideo(units[i]!, Math.round((i * 1_000_000) / 30))).toBe(true);
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor(() => depacketizer.accessUnits.length === units.length, { what: 'all access units' });
    expect([...depacketizer.payloadTypes]).toEqual([106]);
    // RTP timestamps follow the capture clock at 90 kHz: 3000 ticks per frame at 30 fps.
    const steps = depacketizer.timestamps
      .slice(1)
      .map((t, i) => (t - depacketizer.timestamps[i]! + 2 ** 32) % 2 ** 32);
    expect(new Set(steps)).toEqual(new Set([3000]));
    const sent = await decodeFrameHashes(stream);
    const received = await decodeFrameHashes(Buffer.concat(depacketizer.accessUnits));
    expect(sent).toHaveLength(60);
    expect(received).toEqual(sent);
  });

  it('raises a keyframe request for a PLI and for a FIR sent by the viewer', async () => {
    // Coalescing is covered with a fake clock in video-feedback.test.ts.
    const { viewer, peer } = await connectedPair({ keyframeMinIntervalMs: 0 });
    const reasons: string[] = [];
    peer.onKeyframeRequest((r) => reasons.push(r));
    await waitFor(() => viewer.sendPli(), { what: 'track open for RTCP' });
    await waitFor(() => reasons.length === 1, { what: 'PLI' });
    viewer.sendRtcp(buildFir(1234, viewer.remoteVideoSsrc!, 1));
    await waitFor(() => reasons.length === 2, { what: 'FIR' });
    expect(reasons).toEqual(['pli', 'fir']);
  });

  it('exposes the viewer’s reception reports', async () => {
    const { viewer, peer } = await connectedPair();
    const got: number[] = [];
    peer.onReceiverStats((s) => got.push(s.fractionLost));
    const block = {
      ssrc: viewer.remoteVideoSsrc!,
      fractionLost: 0.25,
      cumulativeLost: 12,
      highestSequence: 5000,
      jitter: 900,
      lastSr: 0,
      delaySinceLastSr: 0,
    };
    await waitFor(() => viewer.sendRtcp(buildReceiverReport(99, [block])), { what: 'track open for RTCP' });
    await waitFor(() => got.length === 1, { what: 'report' });
    expect(peer.receiverStats).toMatchObject({
      fractionLost: 0.25,
      cumulativeLost: 12,
      jitterMs: 10,
      rttMs: undefined,
    });
  });

  it('reports closed and stops sending after close()', async () => {
    const { peer } = await connectedPair();
    const states: string[] = [];
    peer.onState((s) => states.push(s));
    peer.close();
    expect(states).toEqual(['closed']);
    expect(peer.sendVideo(Buffer.from([0, 0, 0, 1, 0x65]), 0)).toBe(false);
    expect(peer.sendControl({ type: 'keyframe' } as never)).toBe(false);
  });
});
