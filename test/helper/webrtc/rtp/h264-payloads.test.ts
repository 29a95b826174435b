import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { h264Payloads } from '../../../../src/helper/webrtc/rtp/h264-payloads.js';
import { H264Depacketizer } from '../../../fixtures/webrtc-offerer.js';
import { rtpPacket } from '../../../../src/helper/webrtc/rtp/rtp-packet.js';

const START = Buffer.from([0, 0, 0, 1]);

/** An access unit of NAL units with the given header bytes and sizes (bodies free of start codes). */
function accessUnit(nals: { header: number; size: number }[]): Buffer {
  return Buffer.concat(
    nals.flatMap(({ header, size }) => [
      START,
      Buffer.from([header, ...Array.from({ length: size - 1 }, (_, i) => (i % 250) + 2)]),
    ]),
  );
}

/** What a receiver (the test viewer's RFC 6184 depacketizer) makes of the payloads. */
function reassemble(payloads: Uint8Array[]): Buffer | undefined {
  const d = new H264Depacketizer();
  payloads.forEach((p, i) =>
    d.push(
      rtpPacket(
        { payloadType: 96, sequence: i, timestamp: 9000, ssrc: 1, marker: i === payloads.length - 1 },
        p,
      ),
    ),
  );
  return d.accessUnits[0];
}

describe('h264Payloads', () => {
  it('sends small NAL units whole and fragments a large one into FU-A with start and end bits', () => {
    const au = accessUnit([
      { header: 0x67, size: 20 }, // SPS
      { header: 0x68, size: 5 }, // PPS
      { header: 0x65, size: 2500 }, // IDR slice, NRI 3
    ]);
    const payloads = h264Payloads(au, 1000);
    expect(payloads.map((p) => p.length)).toEqual([20, 5, 1000, 1000, 505]);
    expect(payloads[0]![0]).toBe(0x67);
    // FU indicator keeps F/NRI (0x60) with type 28; FU header: S/E bits and type 5.
    expect([...payloads.slice(2).map((p) => [p[0], p[1]])]).toEqual([
      [0x7c, 0x85],
      [0x7c, 0x05],
      [0x7c, 0x45],
    ]);
    expect(reassemble(payloads)).toEqual(au);
  });

  it('round-trips any access unit through a receiver, every payload within the limit', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            header: fc.constantFrom(0x41, 0x65, 0x67, 0x68, 0x06),
            size: fc.integer({ min: 1, max: 5000 }),
          }),
          {
            minLength: 1,
            maxLength: 6,
          },
        ),
        fc.integer({ min: 40, max: 1400 }),
        (nals, max) => {
          const au = accessUnit(nals);
          const payloads = h264Payloads(au, max);
          expect(payloads.every((p) => p.length <= max)).toBe(true);
          expect(reassemble(payloads)).toEqual(au);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('refuses a payload limit that leaves no room for a fragment', () => {
    expect(() => h264Payloads(accessUnit([{ header: 0x65, size: 10 }]), 2)).toThrow(RangeError);
  });
});
