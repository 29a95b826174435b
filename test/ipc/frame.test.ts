import { createSecretKey, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FrameError } from '../../src/ipc/errors.js';
import {
  Direction,
  FRAME_OVERHEAD,
  FrameOpener,
  FrameReader,
  FrameSealer,
  LENGTH_BYTES,
  TAG_BYTES,
  authenticatedFrameReader,
} from '../../src/ipc/frame.js';

const key = createSecretKey(randomBytes(32));
const S2H = Direction.serviceToHelper;
const H2S = Direction.helperToService;

function sealed(count: number, k = key, direction: Direction = S2H): Buffer[] {
  const sealer = new FrameSealer(k, direction);
  return Array.from({ length: count }, (_, i) => sealer.seal(Buffer.from(`payload ${i}`)));
}

/** Feeds bytes through a fresh reader and opener; returns the payloads accepted before any error. */
function receive(
  bytes: Buffer,
  opener = new FrameOpener(key, S2H),
  maxFrameBytes = 1024,
): { payloads: string[]; error?: FrameError; partial: boolean } {
  const reader = authenticatedFrameReader(maxFrameBytes);
  const payloads: string[] = [];
  try {
    reader.push(bytes, (body) => {
      payloads.push(opener.open(body).toString());
    });
  } catch (err) {
    if (!(err instanceof FrameError)) throw err;
    return { payloads, error: err, partial: reader.hasPartialFrame };
  }
  return { payloads, partial: reader.hasPartialFrame };
}

function flipBit(buf: Buffer, byte: number, bit = 0): Buffer {
  const out = Buffer.from(buf);
  out[byte] = (out[byte] as number) ^ (1 << bit);
  return out;
}

describe('frame layout', () => {
  it('writes length, direction, sequence, payload and a 32-byte tag', () => {
    const [f0, f1] = sealed(2);
    expect(f0!.readUInt32BE(0)).toBe(f0!.length - LENGTH_BYTES);
    expect(f0!.length).toBe(FRAME_OVERHEAD + 'payload 0'.length);
    expect(f0![4]).toBe(S2H);
    expect(f0!.readBigUInt64BE(5)).toBe(0n);
    expect(f1!.readBigUInt64BE(5)).toBe(1n);
    expect(f0!.subarray(13, 13 + 9).toString()).toBe('payload 0');
  });

  it('round-trips frames through the reader and opener in order', () => {
    expect(receive(Buffer.concat(sealed(5))).payloads).toEqual([0, 1, 2, 3, 4].map((i) => `payload ${i}`));
  });

  it('reassembles frames delivered one byte at a time', () => {
    const stream = Buffer.concat(sealed(3));
    const reader = authenticatedFrameReader(1024);
    const opener = new FrameOpener(key, S2H);
    const got: string[] = [];
    for (let i = 0; i < stream.length; i++) {
      reader.push(stream.subarray(i, i + 1), (body) => {
        got.push(opener.open(body).toString());
      });
    }
    expect(got).toEqual(['payload 0', 'payload 1', 'payload 2']);
    expect(reader.hasPartialFrame).toBe(false);
  });

  it('stops reading the rest of a chunk when the consumer says so', () => {
    const reader = authenticatedFrameReader(1024);
    let seen = 0;
    reader.push(Buffer.concat(sealed(3)), () => {
      seen += 1;
      return false;
    });
    expect(seen).toBe(1);
  });
});

describe('frame rejection', () => {
  it('rejects a frame whose HMAC is off by one bit', () => {
    const [f] = sealed(1);
    expect(receive(flipBit(f!, f!.length - 1)).error?.reason).toBe('bad_tag');
  });

  it('rejects a frame whose payload is off by one bit', () => {
    const [f] = sealed(1);
    expect(receive(flipBit(f!, 13, 3)).error?.reason).toBe('bad_tag');
  });

  it('rejects a frame whose sequence was rewritten without the key', () => {
    const [f] = sealed(1);
    expect(receive(flipBit(f!, 12)).error?.reason).toBe('bad_tag');
  });

  it('rejects a frame whose direction byte was rewritten without the key', () => {
    const [f] = sealed(1);
    expect(receive(flipBit(f!, 4, 1)).error?.reason).toBe('bad_tag');
  });

  it('rejects a frame tagged for the other direction', () => {
    const [f] = sealed(1, key, H2S);
    expect(receive(f!).error?.reason).toBe('bad_direction');
  });

  it('rejects a frame sealed with another key (another connection, or reflected)', () => {
    const [f] = sealed(1, createSecretKey(randomBytes(32)));
    expect(receive(f!).error?.reason).toBe('bad_tag');
  });

  it('rejects a replayed frame', () => {
    const [f0, f1] = sealed(2);
    const result = receive(Buffer.concat([f0!, f1!, f1!]));
    expect(result.payloads).toEqual(['payload 0', 'payload 1']);
    expect(result.error?.reason).toBe('replayed_sequence');
  });

  it('rejects frames delivered out of order', () => {
    const [f0, f1, f2] = sealed(3);
    const result = receive(Buffer.concat([f0!, f2!, f1!]));
    expect(result.payloads).toEqual(['payload 0']);
    expect(result.error?.reason).toBe('skipped_sequence');
  });

  it('rejects a stream that starts after the first frame', () => {
    const [, f1] = sealed(2);
    expect(receive(f1!).error?.reason).toBe('skipped_sequence');
  });

  it('rejects a length below the smallest possible frame before reading the body', () => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1 + 8 + TAG_BYTES); // no room for a payload
    expect(receive(header).error?.reason).toBe('short_frame');
  });

  it('rejects a zero length', () => {
    expect(receive(Buffer.alloc(4)).error?.reason).toBe('short_frame');
  });

  it('rejects a length above the maximum from the 4 length bytes alone', () => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(0xffff_ffff);
    expect(receive(header).error?.reason).toBe('oversized_frame');
  });

  it('rejects a frame one byte over the configured maximum', () => {
    const [f] = sealed(1);
    expect(receive(f!, undefined, f!.length - 1).error?.reason).toBe('oversized_frame');
    expect(receive(f!, undefined, f!.length).payloads).toHaveLength(1);
  });

  it('rejects a frame whose length claims one byte less than it carries', () => {
    const [f] = sealed(1);
    const shorter = Buffer.from(f!);
    shorter.writeUInt32BE(f!.length - LENGTH_BYTES - 1);
    expect(receive(shorter).error?.reason).toBe('bad_tag');
  });

  it('leaves a frame whose length claims more than it carries incomplete, never accepted', () => {
    const [f] = sealed(1);
    const longer = Buffer.from(f!);
    longer.writeUInt32BE(f!.length - LENGTH_BYTES + 1);
    const result = receive(longer);
    expect(result.payloads).toEqual([]);
    expect(result.partial).toBe(true);
  });

  it('reports a truncated frame as partial', () => {
    const [f] = sealed(1);
    for (const cut of [1, 3, 4, 13, f!.length - 1]) {
      const result = receive(f!.subarray(0, cut));
      expect(result.payloads).toEqual([]);
      expect(result.partial).toBe(true);
    }
  });

  it('refuses to open a body shorter than the fixed fields', () => {
    expect(() => new FrameOpener(key, S2H).open(Buffer.alloc(20))).toThrow(FrameError);
  });

  it('refuses a maximum frame size that cannot hold a payload', () => {
    expect(() => authenticatedFrameReader(FRAME_OVERHEAD)).toThrow(RangeError);
    expect(() => new FrameReader(1, 10).push(Buffer.from([0, 0, 0, 11]), () => {})).toThrow(FrameError);
  });
});
