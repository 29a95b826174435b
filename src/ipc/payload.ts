/**
 * msgpack encoding of frame payloads. Only plain data crosses the pipe: null, booleans, numbers,
 * strings, byte arrays, arrays and plain objects (and undefined, which msgpackr writes for absent
 * optional fields). msgpackr's records and structured-clone references are turned off, and anything
 * its built-in extensions would build (Date, Map, Set, Error, RegExp, BigInt, other typed arrays) is
 * refused after decoding, so a peer can never make this process instantiate a class.
 */
import { Packr, Unpackr } from 'msgpackr';
import { FrameError } from './errors.js';

/** Deeper nesting than any porthole message has; bounds the recursion in the plain-data check. */
export const MAX_PAYLOAD_DEPTH = 32;

const packr = new Packr({ useRecords: false, structuredClone: false, moreTypes: false });
const unpackr = new Unpackr({
  useRecords: false,
  structuredClone: false,
  moreTypes: false,
  mapsAsObjects: true,
  int64AsType: 'number',
  // Byte arrays are copied out so a body never pins (or aliases) the socket's read buffer.
  copyBuffers: true,
});

/** Encodes one value. The result is a view into msgpackr's shared buffer: copy it before the next call. */
export function encodePayload(value: unknown): Uint8Array {
  // Refused here too, so a sender learns at once rather than the peer closing the connection.
  if (!isPlainData(value, 0)) throw new TypeError('an IPC body must be plain data (see src/ipc/payload.ts)');
  return packr.pack(value);
}

/** Decodes exactly one msgpack value that is plain data; throws FrameError('undecodable_payload'). */
export function decodePayload(bytes: Uint8Array): unknown {
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch {
    // msgpackr's messages can quote the data; the reason alone is enough and leaks nothing.
    throw new FrameError('undecodable_payload');
  }
  if (!isPlainData(value, 0)) throw new FrameError('undecodable_payload', 'not plain data');
  return value;
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
