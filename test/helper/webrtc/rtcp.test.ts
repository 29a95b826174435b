import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ntpMiddle32, readRtcp, roundTripMs } from '../../../src/helper/webrtc/rtcp.js';
import { buildFir, buildPli, buildReceiverReport } from '../../fixtures/webrtc-offerer.js';

const block = {
  ssrc: 0xdeadbeef,
  fractionLost: 0.5,
  cumulativeLost: -3,
  highestSequence: 70_000,
  jitter: 450,
  lastSr: 0x1234_5678,
  delaySinceLastSr: 65_536,
};

describe('readRtcp', () => {
  it('reads a PLI, a FIR and a receiver report from one compound packet', () => {
    const compound = Buffer.concat([
      buildReceiverReport(1, [block]),
      buildPli(1, 0xdeadbeef),
      buildFir(1, 0xdeadbeef, 3),
    ]);
    expect(readRtcp(compound)).toEqual([
      { kind: 'report', report: block },
      { kind: 'pli', mediaSsrc: 0xdeadbeef },
      { kind: 'fir', mediaSsrc: 0xdeadbeef },
    ]);
  });

  it('reads report blocks from a sender report', () => {
    const sr = Buffer.alloc(28 + 24);
    sr.writeUInt8(0x81, 0);
    sr.writeUInt8(200, 1);
    sr.writeUInt16BE(sr.length / 4 - 1, 2);
    buildReceiverReport(1, [block]).copy(sr, 28, 8);
    expect(readRtcp(sr)).toEqual([{ kind: 'report', report: block }]);
  });

  it('reads a REMB estimate', () => {
    const remb = Buffer.alloc(24);
    remb.writeUInt8(0x80 | 15, 0);
    remb.writeUInt8(206, 1);
    remb.writeUInt16BE(5, 2);
    remb.write('REMB', 12, 'latin1');
    // one SSRC, exponent 3, mantissa 250000 → 2 Mbit/s
    remb.writeUInt32BE(((1 << 24) | (3 << 18) | 250_000) >>> 0, 16);
    remb.writeUInt32BE(0xdeadbeef, 20);
    expect(readRtcp(remb)).toEqual([{ kind: 'remb', bitrate: 2_000_000, ssrcs: [0xdeadbeef] }]);
  });

  it('ignores RTP, truncated packets and lengths that overrun the buffer', () => {
    const rtp = Buffer.alloc(20);
    rtp.writeUInt8(0x80, 0);
    rtp.writeUInt8(96, 1);
    expect(readRtcp(rtp)).toEqual([]);
    const pli = buildPli(1, 2);
    expect(readRtcp(pli.subarray(0, 8))).toEqual([]);
    const overrun = Buffer.from(pli);
    overrun.writeUInt16BE(50, 2);
    expect(readRtcp(overrun)).toEqual([]);
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, rtcpLike) => {
        const b = Buffer.from(bytes);
        if (rtcpLike && b.length >= 2) {
          b[0] = 0x80 | (b[0]! & 0x3f);
          b[1] = 192 + (b[1]! % 32);
        }
        readRtcp(b);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('roundTripMs', () => {
  it('computes arrival − LSR − DLSR and is undefined before any SR', () => {
    const lsr = 0x0001_0000; // 1 s
    expect(roundTripMs({ ...block, lastSr: lsr, delaySinceLastSr: 0x8000 }, 0x0001_c000)).toBe(250);
    expect(roundTripMs({ ...block, lastSr: 0 }, 0x0001_c000)).toBeUndefined();
    // A hair below zero is clock rounding on a local path; far below is nonsense.
    expect(roundTripMs({ ...block, lastSr: lsr + 10, delaySinceLastSr: 0 }, lsr)).toBe(0);
    expect(roundTripMs({ ...block, lastSr: lsr + 6554, delaySinceLastSr: 0 }, lsr)).toBeUndefined();
  });

  it('ntpMiddle32 advances by 65536 per second', () => {
    expect((ntpMiddle32(10_000) - ntpMiddle32(9_000)) >>> 0).toBe(65_536);
  });
});
