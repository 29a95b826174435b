/**
 * msgpack encoding of frame payloads. Only plain data crosses the pipe: null, booleans, numbers,
 * strings, byte arrays, arrays and plain objects.
 *
 * msgpackr understands more than that even with `useRecords: false`: its extensions build Date, Map,
 * Set, Error, RegExp, BigInt and typed arrays, and its record definitions make it generate reader
 * code from key names. So before msgpackr sees a payload, `checkStructure` walks the bytes and
 * refuses any extension type, the reserved byte, nesting deeper than MAX_PAYLOAD_DEPTH, lengths
 * that overrun the payload and trailing bytes. What is left is standard msgpack, which msgpackr can
 * only turn into plain values.
 */
import { Packr, Unpackr, type Options } from 'msgpackr';
import { FrameError } from './errors.js';

/** Deeper nesting than any porthole message has; bounds recursion in both checks. */
export const MAX_PAYLOAD_DEPTH = 32;

const packr = new Packr({
  useRecords: false,
  structuredClone: false,
  moreTypes: false,
  // JSON's treatment of undefined: dropped from objects, null in arrays. The default (an extension
  // type) would be refused by the receiver.
  skipValues: [undefined],
  encodeUndefinedAsNil: true,
} as Options & { skipValues: unknown[] });

const unpackr = new Unpackr({
  useRecords: false,
  structuredClone: false,
  moreTypes: false,
  mapsAsObjects: true,
  int64AsType: 'number',
  // Byte arrays are copied out so a body never pins (or aliases) the socket's read buffer.
  copyBuffers: true,
});

/**
 * Encodes one value. Throws TypeError for anything but plain data, so a sender learns at once rather
 * than the peer closing the connection. The result is a view into msgpackr's shared buffer: copy it
 * before the next call.
 */
export function encodePayload(value: unknown): Uint8Array {
  if (!isPlainData(value, 0)) throw new TypeError('an IPC body must be plain data (see src/ipc/payload.ts)');
  return packr.pack(value);
}

/** Decodes exactly one standard msgpack value; throws FrameError('undecodable_payload'). */
export function decodePayload(bytes: Uint8Array): unknown {
  if (checkStructure(bytes, 0, 0) !== bytes.length) throw new FrameError('undecodable_payload');
  try {
    return unpackr.unpack(bytes);
  } catch {
    // msgpackr's messages can quote the data; the reason alone is enough and leaks nothing.
    throw new FrameError('undecodable_payload');
  }
}

/**
 * Returns the offset just past the standard msgpack value at `at`, or -1 if the bytes are not one
 * (an extension, the reserved 0xc1, too deep, or a length running past the end). Allocates nothing.
 */
function checkStructure(b: Uint8Array, at: number, depth: number): number {
  if (at >= b.length) return -1;
  const t = b[at] as number;
  if (t <= 0x7f || t >= 0xe0) return at + 1; // positive / negative fixint
  if (t <= 0x8f) return items(b, at + 1, (t & 0x0f) * 2, depth); // fixmap
  if (t <= 0x9f) return items(b, at + 1, t & 0x0f, depth); // fixarray
  if (t <= 0xbf) return skip(b, at + 1, t & 0x1f); // fixstr
  switch (t) {
    case 0xc0: // nil
    case 0xc2: // false
    case 0xc3: // true
      return at + 1;
    case 0xc4: // bin 8
    case 0xd9: // str 8
      return at + 2 > b.length ? -1 : skip(b, at + 2, b[at + 1] as number);
    case 0xc5: // bin 16
    case 0xda: // str 16
      return at + 3 > b.length ? -1 : skip(b, at + 3, readUint(b, at + 1, 2));
    case 0xc6: // bin 32
    case 0xdb: // str 32
      return at + 5 > b.length ? -1 : skip(b, at + 5, readUint(b, at + 1, 4));
    case 0xcc: // uint 8
    case 0xd0: // int 8
      return skip(b, at + 1, 1);
    case 0xcd: // uint 16
    case 0xd1: // int 16
      return skip(b, at + 1, 2);
    case 0xca: // float 32
    case 0xce: // uint 32
    case 0xd2: // int 32
      return skip(b, at + 1, 4);
    case 0xcb: // float 64
    case 0xcf: // uint 64
    case 0xd3: // int 64
      return skip(b, at + 1, 8);
    case 0xdc: // array 16
      return at + 3 > b.length ? -1 : items(b, at + 3, readUint(b, at + 1, 2), depth);
    case 0xdd: // array 32
      return at + 5 > b.length ? -1 : items(b, at + 5, readUint(b, at + 1, 4), depth);
    case 0xde: // map 16
      return at + 3 > b.length ? -1 : items(b, at + 3, readUint(b, at + 1, 2) * 2, depth);
    case 0xdf: // map 32
      return at + 5 > b.length ? -1 : items(b, at + 5, readUint(b, at + 1, 4) * 2, depth);
    default:
      return -1; // 0xc1 (never used), 0xc7–0xc9 and 0xd4–0xd8 (extensions)
  }
}

function items(b: Uint8Array, at: number, count: number, depth: number): number {
  // Every item takes at least one byte: a count larger than what is left is a lie, refused at once.
  if (depth >= MAX_PAYLOAD_DEPTH || count > b.length - at) return -1;
  for (let i = 0; i < count && at >= 0; i++) at = checkStructure(b, at, depth + 1);
  return at;
}

function skip(b: Uint8Array, at: number, length: number): number {
  return at + length > b.length ? -1 : at + length;
}

function readUint(b: Uint8Array, at: number, bytes: 2 | 4): number {
  let v = 0;
  for (let i = 0; i < bytes; i++) v = v * 256 + (b[at + i] as number);
  return v;
}

function isPlainData(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
      return true;
    case 'object':
      break;
    default:
      return false; // bigint, function, symbol
  }
  if (value === null) return true;
  if (depth >= MAX_PAYLOAD_DEPTH) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (!isPlainData(item, depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (value instanceof Uint8Array) return proto === Buffer.prototype || proto === Uint8Array.prototype;
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key in value) {
    if (!isPlainData((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}
