import { describe, expect, it } from 'vitest';
import { readRtcp } from '../../../../src/helper/webrtc/rtcp.js';
import { rtpSequence } from '../../../../src/helper/webrtc/rtp/rtp-packet.js';
import { VideoSender } from '../../../../src/helper/webrtc/rtp/video-sender.js';
import { FakeClock } from '../../../fixtures/fake-clock.js';
import { H264Depacketizer } from '../../../fixtures/webrtc-offerer.js';

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

function setup() {
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
});
