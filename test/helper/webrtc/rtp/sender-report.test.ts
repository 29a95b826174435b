import { describe, expect, it } from 'vitest';
import { ntpMiddle32, readRtcp, roundTripMs } from '../../../../src/helper/webrtc/rtcp.js';
import { senderReport } from '../../../../src/helper/webrtc/rtp/sender-report.js';
import { buildReceiverReport } from '../../../fixtures/webrtc-offerer.js';

describe('senderReport', () => {
  const wallMs = Date.UTC(2026, 11, 3, 12, 0, 0, 250);
  const sr = senderReport({
    ssrc: 0x01020304,
    wallMs,
    rtpTimestamp: 90_000,
    packets: 10,
    octets: 12_000,
    cname: 'porthole',
  });

  it('is an SR followed by an SDES with the CNAME, each a whole number of words', () => {
    expect(sr[1]).toBe(200);
    expect((sr.readUInt16BE(2) + 1) * 4).toBe(28);
    expect(sr[28 + 1]).toBe(202);
    expect(sr.length % 4).toBe(0);
    expect(28 + (sr.readUInt16BE(30) + 1) * 4).toBe(sr.length);
    expect(sr.subarray(38, 38 + sr[37]!).toString()).toBe('porthole');
    expect(sr.readUInt32BE(16)).toBe(90_000);
    expect(sr.readUInt32BE(20)).toBe(10);
    expect(sr.readUInt32BE(24)).toBe(12_000);
    // A reader of compound RTCP walks it whole (no report blocks: nothing to return).
    expect(readRtcp(sr)).toEqual([]);
  });

  it('carries the NTP time a receiver echoes as LSR, so the round trip comes out right', () => {
    const lsr = ((sr.readUInt32BE(8) & 0xffff) << 16) | (sr.readUInt32BE(12) >>> 16);
    expect(lsr >>> 0).toBe(ntpMiddle32(wallMs));
    // The viewer held it 40 ms and the answer took 60 ms more to arrive: RTT 60 ms.
    const rr = readRtcp(
      buildReceiverReport(9, [
        {
          ssrc: 0x01020304,
          fractionLost: 0,
          cumulativeLost: 0,
          highestSequence: 1,
          jitter: 0,
          lastSr: lsr >>> 0,
          delaySinceLastSr: Math.round(0.04 * 65536),
        },
      ]),
    )[0]!;
    expect(rr.kind).toBe('report');
    if (rr.kind !== 'report') return;
    expect(roundTripMs(rr.report, ntpMiddle32(wallMs + 100))).toBeCloseTo(60, 0);
  });
});
