import { afterEach, describe, expect, it } from 'vitest';
import {
  createDesktopPeer,
  type DesktopPeer,
  type DesktopPeerOptions,
} from '../../../src/helper/webrtc/desktop-peer.js';
import type { ControlMessage, InputMessage } from '../../../src/protocol/datachannel.js';
import {
  buildFir,
  buildReceiverReport,
  connectTestOfferer,
  createTestOfferer,
  rtpHeaderExtensions,
  H264Depacketizer,
  type OffererChannelLabel,
  type TestOfferer,
} from '../../fixtures/webrtc-offerer.js';
import type { ChatMessage } from '../../../src/protocol/chat.js';
import { waitFor } from '../../fixtures/wait-for.js';
import { FakeClock } from '../../fixtures/fake-clock.js';
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
  opts: Pick<DesktopPeerOptions, 'inputLimits' | 'keyframeMinIntervalMs' | 'timers' | 'chatLimit'> = {},
  labels?: OffererChannelLabel[],
): Promise<{
  viewer: TestOfferer;
  peer: DesktopPeer;
  log: ReturnType<typeof recordingLog>;
}> {
  const log = recordingLog();
  const { viewer, peer } = await connectTestOfferer(
    async (offer) => {
      const made = await createDesktopPeer({ offer, iceServers: [], log, ...opts });
      return { ...made, dispose: () => made.peer.close() };
    },
    labels ? { labels } : {},
  );
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

  it('connects to a viewer whose offer has no candidates, through the viewer’s own checks', async () => {
    // As with a browser's mDNS host candidates, which libdatachannel cannot resolve. The test offerer
    // always offers so: an offerer the helper can reach before its answer loses a libdatachannel race.
    const { viewer, peer } = await connectedPair();
    expect(viewer.offer).not.toMatch(/^a=candidate:/m);
    expect(peer.state).toBe('connected');
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

  it('passes valid chat lines on, drops bad ones, and answers a flood once with rate_limited', async () => {
    const clock = new FakeClock();
    const { viewer, peer, log } = await connectedPair(
      { timers: clock, chatLimit: { perSecond: 1, burst: 2 } },
      ['input', 'control', 'cursor', 'chat'],
    );
    const lines: ChatMessage[] = [];
    peer.onChat((m) => lines.push(m));
    const chat = viewer.channels.chat;
    chat.sendMessage(JSON.stringify({ type: 'message', text: 'hello' }));
    chat.sendMessage(JSON.stringify({ type: 'message', text: 'forged\nadmin: ok' }));
    chat.sendMessage(JSON.stringify({ type: 'message', text: 'second' }));
    // Over the burst of 2: dropped, and said once.
    for (let i = 0; i < 5; i++) chat.sendMessage(JSON.stringify({ type: 'message', text: `flood ${i}` }));
    await waitFor(() => viewer.received('chat').length === 1, { what: 'the rate_limited notice' });
    expect(lines).toEqual([
      { type: 'message', text: 'hello' },
      { type: 'message', text: 'second' },
    ]);
    expect(JSON.parse(viewer.received('chat')[0]!)).toMatchObject({ type: 'error', code: 'rate_limited' });
    expect(log.lines.some((l) => l.msg === 'bad message dropped')).toBe(true);
    // A second later the bucket has a token again.
    await clock.advance(1000);
    chat.sendMessage(JSON.stringify({ type: 'message', text: 'after a pause' }));
    await waitFor(() => lines.length === 3, { what: 'the line after the pause' });
    expect(peer.sendChat({ type: 'message', text: 'yes' })).toBe(true);
    await waitFor(() => viewer.received('chat').length === 2, { what: 'the answer' });
    expect(JSON.parse(viewer.received('chat')[1]!)).toEqual({ type: 'message', text: 'yes' });
  });

  it('drops 20 kinds of bad messages, passes a key-up after a flood of moves, logs sparingly, and keeps working', async () => {
    // The limits run on a clock that stands still until the test moves it: the bucket holds the
    // 200 moves of one second, however long the flood takes to arrive.
    const clock = new FakeClock();
    const { viewer, peer, log } = await connectedPair({
      inputLimits: { pointer_move: { perSecond: 200, burst: 200 } },
      timers: clock,
    });
    const inputs: InputMessage[] = [];
    const controls: ControlMessage[] = [];
    let releases = 0;
    peer.onInput((m) => inputs.push(m));
    peer.onControl((m) => controls.push(m));
    peer.onReleaseInput(() => releases++);
    const bad: (string | Buffer)[] = [
      'not json',
      '',
      'null',
      '[]',
      '42',
      '"text"',
      '{}',
      JSON.stringify({ type: 'nope' }),
      JSON.stringify({ type: 'pointer_move', x: 'left', y: 0 }),
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
    // A key held through a flood of moves, far more than their limit in one burst: the key-up after
    // it must arrive, or the key stays down in the user's session.
    viewer.channels.input.sendMessage(JSON.stringify({ type: 'key', code: 'ShiftLeft', down: true }));
    for (let i = 1; i <= 2000; i++) {
      viewer.channels.input.sendMessage(JSON.stringify({ type: 'pointer_move', x: i / 2000, y: 0.1 }));
    }
    viewer.channels.input.sendMessage(JSON.stringify({ type: 'key', code: 'ShiftLeft', down: false }));
    const seen = (c: { accepted: number; invalid: number; rateLimited: number; coalesced: number }): number =>
      c.accepted + c.invalid + c.rateLimited + c.coalesced;
    await waitFor(() => seen(peer.messageCounts.input) === 2022 && seen(peer.messageCounts.control) === 2, {
      what: 'every message to reach the gates',
      timeoutMs: 30_000,
    });
    // Bad messages take no tokens; 200 moves passed, the other 1800 were merged into the one
    // delivered just before the key-up.
    expect(peer.messageCounts.input).toEqual({ accepted: 203, invalid: 20, rateLimited: 0, coalesced: 1799 });
    expect(peer.messageCounts.control).toEqual({ accepted: 0, invalid: 2, rateLimited: 0, coalesced: 0 });
    expect(inputs.filter((m) => m.type === 'key')).toEqual([
      { type: 'key', code: 'ShiftLeft', down: true },
      { type: 'key', code: 'ShiftLeft', down: false },
    ]);
    expect(inputs.at(-2)).toEqual({ type: 'pointer_move', x: 1, y: 0.1 });
    expect(releases).toBe(0);
    await clock.advance(1000); // the buckets refill
    viewer.channels.input.sendMessage(JSON.stringify({ type: 'key', code: 'Enter', down: true }));
    viewer.channels.control.sendMessage(JSON.stringify({ type: 'keyframe' }));
    await waitFor(() => inputs.some((m) => m.type === 'key' && m.code === 'Enter') && controls.length === 1, {
      what: 'valid messages after the bad',
    });

    expect(inputs.filter((m) => m.type === 'pointer_move')).toHaveLength(201);
    expect(controls).toEqual([{ type: 'keyframe' }]);
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

  it('frees its timers on close() even after the connection closed itself', async () => {
    const clock = new FakeClock();
    const { viewer, peer } = await connectedPair({ timers: clock });
    const states: string[] = [];
    peer.onState((s) => states.push(s));
    // A packet out starts the sender reports, on the fake clock.
    await waitFor(() => peer.sendVideo(Buffer.from([0, 0, 0, 1, 0x65, 1, 2, 3]), 0, 1_000_000), {
      what: 'the video track open',
    });
    expect(clock.pending.length).toBeGreaterThan(0);
    viewer.close();
    await waitFor(() => peer.state !== 'connected', { what: 'the helper to see the viewer go' });
    peer.close();
    expect(clock.pending).toEqual([]);
    expect(peer.videoSenderStats?.packetsSent).toBeGreaterThan(0);
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
