/**
 * ULPFEC in RED as the video sender writes it, read back by a receiver written from the RFCs
 * (test/fixtures/ulpfec-receiver.ts): any one lost packet of a group comes back byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { playoutDelay, rtpPacket } from '../../../../src/helper/webrtc/rtp/rtp-packet.js';
import { redPacket, rtpHeaderLength, ulpfecPayload } from '../../../../src/helper/webrtc/rtp/ulpfec.js';
import { recover, unred } from '../../../fixtures/ulpfec-receiver.js';

const SSRC = 0xdeadbeef;
const H264 = 102;
const RED = 116;
const ULPFEC = 117;

/** Media packets of different lengths, some with the playout-delay extension, the last with the marker. */
function group(size: number, firstSeq = 0xfffe): Buffer[] {
  return Array.from({ length: size }, (_, i) =>
    rtpPacket(
      {
        payloadType: H264,
        sequence: (firstSeq + i) & 0xffff,
        timestamp: 0xfffffff0 + i,
        ssrc: SSRC,
        marker: i === size - 1,
      },
      Buffer.alloc(100 + 37 * i, 0x11 * (i + 1)).fill(i, 0, 1),
      i % 2 ? { id: 5, data: playoutDelay(0, 0) } : undefined,
    ),
  );
}

describe('ULPFEC', () => {
  it('rebuilds any one lost packet of a group, header and extension included', () => {
    for (const size of [1, 2, 5, 8, 16]) {
      const media = group(size);
      const fec = ulpfecPayload(media);
      for (let lost = 0; lost < size; lost++) {
        const received = new Map(media.filter((_, i) => i !== lost).map((p) => [p.readUInt16BE(2), p]));
        expect(recover(fec, received, SSRC).equals(media[lost]!)).toBe(true);
      }
    }
  });

  it('cannot rebuild two lost packets of a group (what the group size trades against overhead)', () => {
    const media = group(4);
    const received = new Map(media.slice(2).map((p) => [p.readUInt16BE(2), p]));
    expect(() => recover(ulpfecPayload(media), received, SSRC)).toThrow(/2 packets missing/);
  });

  it('carries media and FEC in RED: media payload type in the block header, payload after it', () => {
    const [media] = group(2).slice(1);
    const red = redPacket(media!, RED);
    expect(red[1]! & 0x7f).toBe(RED);
    expect(red[1]! & 0x80).toBe(media![1]! & 0x80);
    expect(red[rtpHeaderLength(media!)]).toBe(H264);
    const back = unred(red, ULPFEC);
    expect(back.kind === 'media' && back.packet.equals(media!)).toBe(true);
  });

  it('refuses a group that is empty, too large, or has a gap in its sequence numbers', () => {
    expect(() => ulpfecPayload([])).toThrow(RangeError);
    expect(() => ulpfecPayload(group(17))).toThrow(RangeError);
    const gap = group(3);
    expect(() => ulpfecPayload([gap[0]!, gap[2]!])).toThrow(/consecutive/);
  });
});
