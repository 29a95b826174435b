import { describe, expect, it } from 'vitest';
import { playoutDelay, rtpPacket, rtpSequence } from '../../../../src/helper/webrtc/rtp/rtp-packet.js';
import { rtpHeaderExtensions } from '../../../fixtures/webrtc-offerer.js';

describe('rtpPacket', () => {
  it('writes version 2, marker, payload type, sequence, timestamp and SSRC', () => {
    const p = rtpPacket(
      { payloadType: 102, sequence: 0x1_2345, timestamp: 2 ** 32 + 7, ssrc: 0xdeadbeef, marker: true },
      Buffer.from([9, 8, 7]),
    );
    expect([...p.subarray(0, 2)]).toEqual([0x80, 0x80 | 102]);
    expect(rtpSequence(p)).toBe(0x2345);
    expect(p.readUInt32BE(4)).toBe(7);
    expect(p.readUInt32BE(8)).toBe(0xdeadbeef);
    expect([...p.subarray(12)]).toEqual([9, 8, 7]);
  });

  it('carries a one-byte header extension element a receiver can read back', () => {
    const p = rtpPacket(
      { payloadType: 96, sequence: 1, timestamp: 1, ssrc: 1, marker: false },
      Buffer.from([0xaa]),
      { id: 5, data: playoutDelay(0, 0) },
    );
    expect(p[0]! & 0x10).toBe(0x10);
    expect(rtpHeaderExtensions(p).get(5)).toEqual(Buffer.from([0, 0, 0]));
    expect(p.at(-1)).toBe(0xaa);
    expect(p.length).toBe(12 + 8 + 1);
  });

  it('encodes playout delay in 10 ms units, 12 bits each', () => {
    expect([...playoutDelay(100, 2000)]).toEqual([0x00, 0xa0, 0xc8]);
    expect([...playoutDelay(1e9, 1e9)]).toEqual([0xff, 0xff, 0xff]);
  });

  it('refuses extension ids and sizes the one-byte form cannot carry', () => {
    const h = { payloadType: 96, sequence: 1, timestamp: 1, ssrc: 1, marker: false };
    expect(() => rtpPacket(h, Buffer.alloc(1), { id: 15, data: Buffer.alloc(1) })).toThrow(RangeError);
    expect(() => rtpPacket(h, Buffer.alloc(1), { id: 1, data: Buffer.alloc(17) })).toThrow(RangeError);
  });
});
