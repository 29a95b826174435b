import { createSecretKey, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { FrameError } from '../../src/ipc/errors.js';
import { Direction, FrameOpener, FrameSealer, authenticatedFrameReader } from '../../src/ipc/frame.js';
import { MAX_PAYLOAD_DEPTH, decodePayload, encodePayload } from '../../src/ipc/payload.js';

/** Everything msgpack carries that the channel accepts: JSON-like values and byte arrays. */
const plainValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double().filter((d) => !Object.is(d, -0)),
    fc.string({ unit: 'binary' }),
    fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(
      fc.string().filter((k) => k !== '__proto__'),
      tie('value'),
      { maxKeys: 5, noNullPrototype: true },
    ),
  ),
})).value;

function throughFrames(value: unknown): unknown {
  const key = createSecretKey(randomBytes(32));
  const frame = new FrameSealer(key, Direction.helperToService).seal(encodePayload(value));
  const opener = new FrameOpener(key, Direction.helperToService);
  let out: unknown;
  authenticatedFrameReader().push(frame, (body) => {
    out = decodePayload(opener.open(body));
  });
  return out;
}

const expectRejected = (bytes: Uint8Array): void => {
  expect(() => decodePayload(bytes)).toThrow(FrameError);
};

describe('payload encoding', () => {
  it('round-trips any plain value through encode, seal, read, open and decode', () => {
    fc.assert(
      fc.property(plainValue, (value) => {
        expect(throughFrames(value)).toEqual(value);
      }),
      { numRuns: 500 },
    );
  });

  it('rejects a payload that decodes to a Date', () => {
    expectRejected(new Packr().pack(new Date(0)));
  });

  it('rejects payloads that decode to Map, Set, RegExp, Error or typed arrays', () => {
    const rich = new Packr({ moreTypes: true, structuredClone: true, useRecords: false });
    for (const v of [new Set([1]), /x/g, new Error('boom'), new Float64Array([1]), new Uint16Array([1])]) {
      expectRejected(rich.pack({ nested: [v] }));
    }
  });

  it('rejects a 64-bit integer that would decode to a BigInt', () => {
    expectRejected(new Packr({ useBigIntExtension: true }).pack(2n ** 70n));
  });

  it('rejects structured-clone references (they could build cycles)', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expectRejected(new Packr({ structuredClone: true }).pack(cyclic));
  });

  it('rejects msgpackr records (shared structures)', () => {
    expectRejected(new Packr({ useRecords: true }).pack({ a: 1, b: 2 }));
  });

  it('rejects the undefined extension msgpackr writes by default', () => {
    expectRejected(new Packr({ useRecords: false }).pack([undefined]));
  });

  it('drops undefined fields and turns undefined array items into null, as JSON does', () => {
    expect(decodePayload(encodePayload({ a: 1, b: undefined, c: [undefined, 2] }))).toEqual({
      a: 1,
      c: [null, 2],
    });
  });

  it('rejects an array whose count exceeds the bytes left', () => {
    expectRejected(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]));
  });

  it('rejects a string whose length runs past the payload', () => {
    expectRejected(Buffer.from([0xdb, 0x7f, 0xff, 0xff, 0xff, 0x61]));
  });

  it('rejects bytes after the first value', () => {
    expectRejected(Buffer.concat([encodePayload(1), encodePayload(2)]));
  });

  it('rejects a truncated value', () => {
    const bytes = Buffer.from(encodePayload({ text: 'hello world' }));
    expectRejected(bytes.subarray(0, bytes.length - 1));
  });

  it('rejects a reserved msgpack byte', () => {
    expectRejected(Buffer.from([0xc1]));
  });

  it(`rejects nesting deeper than ${MAX_PAYLOAD_DEPTH} levels`, () => {
    let deep: unknown = 1;
    for (let i = 0; i < MAX_PAYLOAD_DEPTH + 1; i++) deep = [deep];
    expectRejected(new Packr({ useRecords: false }).pack(deep));
  });

  it('survives nesting deep enough to overflow a recursive decoder', () => {
    // 100 000 nested one-element arrays: 0x91 repeated, then a nil.
    const bytes = Buffer.alloc(100_001, 0x91);
    bytes[100_000] = 0xc0;
    expectRejected(bytes);
  });

  it('does not let a __proto__ key change an object prototype', () => {
    // fixmap{1}: "__proto__" → fixmap{1}: "polluted" → true
    const bytes = Buffer.concat([
      Buffer.from([0x81, 0xa9]),
      Buffer.from('__proto__'),
      Buffer.from([0x81, 0xa8]),
      Buffer.from('polluted'),
      Buffer.from([0xc3]),
    ]);
    const value = decodePayload(bytes) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect((value as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('refuses to encode a value that is not plain data', () => {
    class Custom {
      x = 1;
    }
    expect(() => encodePayload({ when: new Date() })).toThrow(TypeError);
    expect(() => encodePayload(new Custom())).toThrow(TypeError);
    expect(() => encodePayload({ n: 1n })).toThrow(TypeError);
  });
});
