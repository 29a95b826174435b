/**
 * Gives a zero ICE tiebreaker a non-zero value, for libjuice's sake.
 *
 * Chromium (seen with 156) puts ICE-CONTROLLING = 0 in the connectivity checks it sends from a TURN
 * port reached over TCP or TLS; its UDP ports send a random value. RFC 8445 allows any 64-bit value,
 * but libjuice (1.7.x, inside node-datachannel) decides "controlling and controlled attributes
 * mismatch" by comparing the two values, reading an absent attribute as 0, so it answers every such
 * check with 400 Bad Request and Chromium drops the pair: a viewer on a network that blocks UDP never
 * connects. The TURN fix-up relay (turn-fixup-relay.ts) runs what the TURN server delivers to libjuice
 * through `repairTurnDatagram`, which rewrites such a check to tiebreaker 1 and signs it again with
 * the helper's own ICE password. Only a check that already carries a valid MESSAGE-INTEGRITY under
 * that password is touched, so nothing unauthenticated is ever signed.
 *
 * Everything here reads untrusted bytes: every length is bounded before it is used, and anything
 * that is not exactly the expected shape is left alone (`undefined`: forward unchanged).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

const MAGIC_COOKIE = 0x2112a442;
const HEADER = 20;
const BINDING_REQUEST = 0x0001;
const DATA_INDICATION = 0x0017;
const ATTR_MESSAGE_INTEGRITY = 0x0008;
const ATTR_DATA = 0x0013;
const ATTR_ICE_CONTROLLED = 0x8029;
const ATTR_ICE_CONTROLLING = 0x802a;
const ATTR_FINGERPRINT = 0x8028;
const FINGERPRINT_XOR = 0x5354554e;
const HMAC_SHA1_BYTES = 20;

interface Attribute {
  type: number;
  /** Offset of the attribute's 4-byte header in the message. */
  at: number;
  length: number;
}

/** The attributes of a STUN message, or undefined when the header or any length does not add up. */
function stunAttributes(msg: Buffer): Attribute[] | undefined {
  if (msg.length < HEADER || (msg[0]! & 0xc0) !== 0) return undefined;
  if (msg.readUInt32BE(4) !== MAGIC_COOKIE) return undefined;
  const bodyLength = msg.readUInt16BE(2);
  if (bodyLength % 4 !== 0 || HEADER + bodyLength !== msg.length) return undefined;
  const out: Attribute[] = [];
  let at = HEADER;
  while (at < msg.length) {
    if (at + 4 > msg.length) return undefined;
    const length = msg.readUInt16BE(at + 2);
    const next = at + 4 + Math.ceil(length / 4) * 4;
    if (next > msg.length) return undefined;
    out.push({ type: msg.readUInt16BE(at), at, length });
    at = next;
  }
  return out;
}

/** MESSAGE-INTEGRITY of `msg` (RFC 8489 §14.5): the length field counts up to the end of that attribute. */
function integrity(msg: Buffer, miAt: number, password: string): Buffer {
  const covered = Buffer.from(msg.subarray(0, miAt));
  covered.writeUInt16BE(miAt + 4 + HMAC_SHA1_BYTES - HEADER, 2);
  return createHmac('sha1', password).update(covered).digest();
}

/** Rewrites a FINGERPRINT attribute in place, if the message has one (RFC 8489 §14.7). */
function refreshFingerprint(msg: Buffer, attributes: Attribute[]): void {
  const fp = attributes.find((a) => a.type === ATTR_FINGERPRINT && a.length === 4);
  if (!fp) return;
  msg.writeUInt32BE((crc32(msg.subarray(0, fp.at)) ^ FINGERPRINT_XOR) >>> 0, fp.at + 4);
}

/**
 * A Binding request whose ICE-CONTROLLING or ICE-CONTROLLED value is 0 and whose MESSAGE-INTEGRITY
 * checks out under `password`, returned with the value 1 and signed again; anything else: undefined.
 */
export function repairBindingRequest(msg: Buffer, password: string): Buffer | undefined {
  if (msg.length < HEADER || msg.readUInt16BE(0) !== BINDING_REQUEST) return undefined;
  const attributes = stunAttributes(msg);
  if (!attributes) return undefined;
  const mi = attributes.find((a) => a.type === ATTR_MESSAGE_INTEGRITY);
  if (!mi || mi.length !== HMAC_SHA1_BYTES) return undefined;
  // Attributes after MESSAGE-INTEGRITY are not covered by it: only a role value before it counts.
  const role = attributes.find(
    (a) =>
      (a.type === ATTR_ICE_CONTROLLING || a.type === ATTR_ICE_CONTROLLED) && a.length === 8 && a.at < mi.at,
  );
  if (!role || msg.readBigUInt64BE(role.at + 4) !== 0n) return undefined;
  const signed = msg.subarray(mi.at + 4, mi.at + 4 + HMAC_SHA1_BYTES);
  if (!timingSafeEqual(integrity(msg, mi.at, password), signed)) return undefined;
  const out = Buffer.from(msg);
  out.writeBigUInt64BE(1n, role.at + 4);
  integrity(out, mi.at, password).copy(out, mi.at + 4);
  refreshFingerprint(out, attributes);
  return out;
}

/**
 * A datagram from the TURN server to libjuice: a ChannelData message or a Data indication whose
 * payload is a Binding request that `repairBindingRequest` rewrites comes back rewritten (same size);
 * anything else: undefined.
 */
export function repairTurnDatagram(datagram: Buffer, password: string): Buffer | undefined {
  if (datagram.length >= 4 && (datagram[0]! & 0xc0) === 0x40) {
    // ChannelData (RFC 8656 §12.4): channel number, length, payload (over UDP, padding optional).
    const length = datagram.readUInt16BE(2);
    if (4 + length > datagram.length) return undefined;
    const fixed = repairBindingRequest(datagram.subarray(4, 4 + length), password);
    if (!fixed) return undefined;
    const out = Buffer.from(datagram);
    fixed.copy(out, 4);
    return out;
  }
  if (datagram.length < HEADER || datagram.readUInt16BE(0) !== DATA_INDICATION) return undefined;
  const attributes = stunAttributes(datagram);
  const data = attributes?.find((a) => a.type === ATTR_DATA);
  if (!attributes || !data) return undefined;
  const fixed = repairBindingRequest(datagram.subarray(data.at + 4, data.at + 4 + data.length), password);
  if (!fixed) return undefined;
  const out = Buffer.from(datagram);
  fixed.copy(out, data.at + 4);
  refreshFingerprint(out, attributes);
  return out;
}

/** The `a=ice-pwd:` of an SDP (the session's, or the first media section's). */
export function icePassword(sdp: string): string | undefined {
  return /^a=ice-pwd:([^\s]+)\s*$/m.exec(sdp)?.[1];
}
