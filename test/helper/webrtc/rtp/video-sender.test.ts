import { describe, expect, it } from 'vitest';
import { readRtcp } from '../../../../src/helper/webrtc/rtcp.js';
import { rtpSequence } from '../../../../src/helper/webrtc/rtp/rtp-packet.js';
import { VideoSender } from '../../../../src/helper/webrtc/rtp/video-sender.js';
import { FakeClock } from '../../../fixtures/fake-clock.js';
import { H264Depacketizer } from '../../../fixtures/webrtc-offerer.js';
import { protectedSequences, recover, unred } from '../../../fixtures/ulpfec-receiver.js';
import { FEC_OFF_AFTER_MS } from '../../../../src/helper/webrtc/rtp/fec-policy.js';

const START = Buffer.from([0, 0, 0, 1]);
const idr = (size: number): Buffer =>
  Buffer.concat([
    START,
    Buffer.from([0x67, 1, 2]),
    START,
    Buffer.from([0x68, 3]),
    START,
    Buffer.alloc(size, 0x65).fill(7, 1),
  ]);
const delta = (size: number): Buffer => Buffer.concat([START, Buffer.alloc(size, 0x41).fill(9, 1)]);

function setup(fec?: { redPayloadType: number; ulpfecPayloadType: number }) {
  const clock = new FakeClock(1000);
  const rtp: Buffer[] = [];
  const rtcp: Buffer[] = [];
  let keyframes = 0;
  let sentBytes = 0;
  const sender = new VideoSender({
    ssrc: 0x1234,
    payloadType: 102,
    cname: 'porthole',
    playoutDelayExtId: 3,
    fec,
    transmit: (p) => {
      (p[1]! >= 192 && p[1]! <= 223 ? rtcp : rtp).push(p);
      return true;
    },
    onKeyframeNeeded: () => (keyframes += 1),
    onSent: (b) => (sentBytes += b),
    timers: clock,
    wallMs: () => 1_796_000_000_000 + clock.now(),
    captureUs: () => clock.now() * 1000,
  });
  return { clock, rtp, rtcp, sender, keyframes: () => keyframes, sentBytes: () => sentBytes };
}

describe('VideoSender', () => {
  it('sends access units a receiver reassembles, sequence numbers in a row, RTP time from capture time', async () => {
    const { sender, rtp, clock } = setup();
    const units = [idr(3000), delta(500), delta(1500)];
    units.forEach((u, i) => sender.send(u, (1000 + i * 33) * 1000, 2_000_000));
    await clock.advance(200);
    const d = new H264Depacketizer();
    for (const p of rtp) d.push(p);
    expect(d.accessUnits).toEqual(units);
    expect(d.timestamps[1]! - d.timestamps[0]!).toBe(33 * 90);
    const seqs = rtp.map(rtpSequence);
    expect(seqs.every((s, i) => i === 0 || s === ((seqs[i - 1]! + 1) & 0xffff))).toBe(true);
    expect(sender.stats.framesSent).toBe(3);
  });

  it('reports as a sender every second once packets flow, and stops when closed', async () => {
    const { sender, rtcp, clock } = setup();
    await clock.advance(3000);
    expect(rtcp).toHaveLength(0);
    sender.send(delta(100), 4_000_000, 1_000_000);
    expect(rtcp).toHaveLength(1);
    await clock.advance(2500);
    expect(rtcp).toHaveLength(3);
    expect(readRtcp(rtcp[2]!)).toEqual([]);
    expect(rtcp[2]!.readUInt32BE(20)).toBe(1); // packet count
    sender.close();
    await clock.advance(5000);
    expect(rtcp).toHaveLength(3);
    expect(clock.pending).toEqual([]);
  });

  it('answers a NACK with the same packet, and asks for a keyframe once when what is NACKed is gone', async () => {
    const { sender, rtp, clock, keyframes } = setup();
    sender.send(delta(100), 1_000_000, 1_000_000);
    const first = rtp[0]!;
    await clock.advance(50);
    sender.onNack([rtpSequence(first)], 40);
    expect(rtp.at(-1)).toBe(first);
    expect(keyframes()).toBe(0);
    await clock.advance(2000);
    // Gone (older than a second): no resend, a keyframe instead; repeated NACKs ask again only after 1 s.
    const count = rtp.length;
    sender.onNack([rtpSequence(first)], 40);
    sender.onNack([rtpSequence(first)], 40);
    expect(rtp.length).toBe(count);
    expect(keyframes()).toBe(1);
    await clock.advance(1000);
    sender.onNack([rtpSequence(first)], 40);
    expect(keyframes()).toBe(2);
    expect(sender.stats.nackGone).toBe(3);
  });

  it('after its queue overflows, skips delta frames until a keyframe, with no gap in sequence numbers', async () => {
    const { sender, rtp, clock, keyframes } = setup();
    // 1 Mb/s: the pacer's queue holds 400 ms × 312.5 B/ms = 125 kB; a 200 kB frame overflows it.
    sender.send(delta(1000), 1_000_000, 1_000_000);
    sender.send(delta(200_000), 1_033_000, 1_000_000);
    expect(keyframes()).toBe(1);
    expect(sender.send(delta(1000), 1_066_000, 1_000_000)).toBe(false);
    expect(sender.send(idr(2000), 1_100_000, 1_000_000)).toBe(true);
    await clock.advance(500);
    const d = new H264Depacketizer();
    for (const p of rtp) d.push(p);
    expect(d.accessUnits.map((u) => u.length)).toEqual([delta(1000).length, idr(2000).length]);
    const seqs = rtp.map(rtpSequence);
    expect(seqs.every((s, i) => i === 0 || s === ((seqs[i - 1]! + 1) & 0xffff))).toBe(true);
    expect(sender.stats).toMatchObject({ overflows: 1, framesSkipped: 2, framesSent: 2, keyframesSent: 1 });
  });

  it('counts the bytes it puts on the path as they leave, retransmissions included', async () => {
    const { sender, rtp, sentBytes, clock } = setup();
    sender.send(delta(2000), 1_000_000, 1_000_000);
    await clock.advance(100);
    const media = rtp.reduce((n, p) => n + p.length, 0);
    expect(sentBytes()).toBe(media);
    sender.onNack([rtpSequence(rtp[0]!)], 10);
    expect(sentBytes()).toBe(media + rtp[0]!.length);
  });

  describe('with FEC (the viewer offered RED and ULPFEC)', () => {
    const FEC = { redPayloadType: 116, ulpfecPayloadType: 117 };

    it('sends each frame in RED, its FEC packets after its last packet, and any one loss per group is rebuilt', async () => {
      const { sender, rtp, clock } = setup(FEC);
      const units = [idr(20 * 1180), delta(500)];
      units.forEach((u, i) => sender.send(u, (1000 + i * 33) * 1000, 4_000_000));
      await clock.advance(300);
      expect(rtp.every((p) => (p[1]! & 0x7f) === FEC.redPayloadType)).toBe(true);
      const parts = rtp.map((p) => ({ seq: rtpSequence(p), ...unred(p, FEC.ulpfecPayloadType) }));
      const kinds = parts.map((p) => (p.kind === 'media' ? 'm' : 'F')).join('');
      // 23 packets of keyframe (SPS+PPS, then 21 slices of FU-A) in 3 groups of ≤ 8, then 1 + 1.
      expect(kinds).toBe(`${'m'.repeat(23)}FFFmF`);
      const media = parts.flatMap((p) => (p.kind === 'media' ? [p.packet] : []));
      const d = new H264Depacketizer();
      for (const p of media) d.push(p);
      expect(d.accessUnits).toEqual(units);
      expect([...d.payloadTypes]).toEqual([102]);
      // Drop one media packet from each group: the FEC packets bring each back byte for byte.
      const bySeq = new Map(media.map((p) => [rtpSequence(p), p]));
      for (const f of parts) {
        if (f.kind !== 'fec') continue;
        const lost = protectedSequences(f.payload)[1] ?? protectedSequences(f.payload)[0]!;
        const received = new Map([...bySeq].filter(([s]) => s !== lost));
        expect(recover(f.payload, received, 0x1234).equals(bySeq.get(lost)!)).toBe(true);
      }
      expect(sender.stats).toMatchObject({ fecFrames: 2, fecPackets: 4 });
    });

    it('stops FEC after 10 s without NACKs, and starts it again when packets are lost', async () => {
      const { sender, rtp, clock } = setup(FEC);
      const isRed = (p: Buffer): boolean => (p[1]! & 0x7f) === FEC.redPayloadType;
      let t = 1_000_000;
      const second = async (): Promise<void> => {
        for (let i = 0; i < 30; i++) {
          sender.send(delta(3000), (t += 33_000), 2_000_000);
          await clock.advance(33);
        }
      };
      await second();
      expect(rtp.filter((p) => p[1]! < 192).every(isRed)).toBe(true);
      for (let s = 0; s * 1000 <= FEC_OFF_AFTER_MS + 1000; s++) await second();
      const before = rtp.length;
      await second();
      expect(rtp.slice(before).some(isRed)).toBe(false);
      // 3 % of the last second's packets NACKed: FEC is back from the next judged second on.
      const last = rtp.slice(before).filter((p) => p[1]! < 192);
      sender.onNack(last.slice(0, Math.ceil(last.length * 0.03)).map(rtpSequence), 40);
      await second();
      const after = rtp.length;
      await second();
      expect(
        rtp
          .slice(after)
          .filter((p) => p[1]! < 192)
          .every(isRed),
      ).toBe(true);
    });

    it('sends plain H.264 when the viewer did not offer RED and ULPFEC', async () => {
      const { sender, rtp, clock } = setup();
      sender.send(idr(5000), 1_000_000, 2_000_000);
      await clock.advance(100);
      expect(rtp.every((p) => (p[1]! & 0x7f) === 102)).toBe(true);
      expect(sender.stats.fecPackets).toBe(0);
    });
  });
});
