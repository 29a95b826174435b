/** The encoder's share of what a viewer's sender put on the path, between two reads. */
import { describe, expect, it } from 'vitest';
import { EncoderShare, MIN_SHARE } from '../../../src/helper/pipeline/encoder-share.js';

describe('EncoderShare', () => {
  it('is media ÷ (media + FEC) over the bytes since the last read', () => {
    const share = new EncoderShare();
    expect(share.read({ bytesSent: 0, fecBytes: 0 })).toBe(1);
    // 100 kB sent of which 12 kB FEC: 88 % were the encoder's.
    expect(share.read({ bytesSent: 100_000, fecBytes: 12_000 })).toBeCloseTo(0.88, 6);
    // Then FEC stops: the next interval is all media.
    expect(share.read({ bytesSent: 200_000, fecBytes: 12_000 })).toBe(1);
  });

  it('keeps the last share over too few bytes, and never goes below MIN_SHARE', () => {
    const share = new EncoderShare();
    expect(share.read({ bytesSent: 50_000, fecBytes: 10_000 })).toBeCloseTo(0.8, 6);
    expect(share.read({ bytesSent: 55_000, fecBytes: 15_000 })).toBeCloseTo(0.8, 6);
    expect(share.read({ bytesSent: 100_000, fecBytes: 45_000 })).toBe(MIN_SHARE);
  });
});
