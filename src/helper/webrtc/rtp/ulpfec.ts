/**
 * Forward error correction for the video track: ULPFEC (RFC 5109) carried in RED (RFC 2198), the
 * pair Chromium's receiver takes for any video codec when the offer lists `red/90000` and
 * `ulpfec/90000`. One FEC packet protects a group of up to 16 consecutive media packets: it is their
 * XOR, so a receiver missing any ONE packet of the group rebuilds it when the FEC packet arrives,
 * without the round trip a NACK costs (on a 240 ms path, a frame's whole extra latency).
 *
 * On the wire, while FEC is on, every media packet is a RED packet: the same RTP header with the RED
 * payload type, then a one-byte RED header naming the media payload type, then the media payload. The
 * FEC is computed over the packets as the receiver rebuilds them from RED, i.e. with the media
 * payload type and without the RED byte; the FEC packet is itself sent in RED under the ULPFEC
 * payload type. Layout (RFC 5109 §7.3 and §7.4, short mask, one level):
 *
 *   FEC header (10 bytes):  E=0 L=0 | P X CC (XOR) | M PT (XOR) | SN base | TS (XOR) | length (XOR)
 *   level 0 header (4):     protection length | 16-bit mask (bit 15 − i: SN base + i protected)
 *   then the XOR of every protected packet after its 12-byte fixed header (header extension,
 *   payload), each zero-padded to the protection length.
 */
import { RTP_HEADER_BYTES } from './rtp-packet.js';

/** One FEC packet protects at most this many media packets (the 16-bit mask of RFC 5109 with L=0). */
export const ULPFEC_MAX_GROUP = 16;
const FEC_HEADER_BYTES = 10;
const LEVEL_HEADER_BYTES = 4;

/** The bytes of one RTP packet's fixed header and extension block (what precedes its payload). */
export function rtpHeaderLength(packet: Uint8Array): number {
  const cc = (packet[0] ?? 0) & 0x0f;
  let length = RTP_HEADER_BYTES + 4 * cc;
  if ((packet[0] ?? 0) & 0x10) {
    const words = ((packet[length + 2] ?? 0) << 8) | (packet[length + 3] ?? 0);
    length += 4 + 4 * words;
  }
  return length;
}

/** A media packet as sent in RED: the RED payload type in its header, then one RED byte, then its payload. */
export function redPacket(media: Uint8Array, redPayloadType: number): Buffer {
  const header = rtpHeaderLength(media);
  const out = Buffer.alloc(media.length + 1);
  out.set(media.subarray(0, header), 0);
  out[1] = ((media[1] ?? 0) & 0x80) | (redPayloadType & 0x7f);
  // F = 0 (the last and only block) and the media payload type.
  out[header] = (media[1] ?? 0) & 0x7f;
  out.set(media.subarray(header), header + 1);
  return out;
}

/**
 * The ULPFEC payload protecting `group` (media packets with consecutive sequence numbers, as the
 * receiver rebuilds them: media payload type, no RED byte). Throws on an empty or oversized group or
 * a gap in its sequence numbers: the mask would then name packets that were not XORed in.
 */
export function ulpfecPayload(group: readonly Uint8Array[]): Buffer {
  if (group.length === 0 || group.length > ULPFEC_MAX_GROUP)
    throw new RangeError(`a FEC group holds 1–${ULPFEC_MAX_GROUP} packets, not ${group.length}`);
  const base = sequenceOf(group[0]!);
  group.forEach((p, i) => {
    if (sequenceOf(p) !== ((base + i) & 0xffff))
      throw new RangeError('FEC group sequence numbers not consecutive');
  });
  const protectionLength = Math.max(...group.map((p) => p.length - RTP_HEADER_BYTES));
  const out = Buffer.alloc(FEC_HEADER_BYTES + LEVEL_HEADER_BYTES + protectionLength);
  let mask = 0;
  for (const [i, p] of group.entries()) {
    out[0]! ^= p[0]!;
    out[1]! ^= p[1]!;
    for (let b = 0; b < 4; b++) out[4 + b]! ^= p[4 + b]!;
    const length = p.length - RTP_HEADER_BYTES;
    out[8]! ^= length >> 8;
    out[9]! ^= length & 0xff;
    const body = FEC_HEADER_BYTES + LEVEL_HEADER_BYTES;
    for (let b = 0; b < length; b++) out[body + b]! ^= p[RTP_HEADER_BYTES + b]!;
    mask |= 0x8000 >>> i;
  }
  out[0] = out[0]! & 0x3f; // E = 0, L = 0 (the version bits XOR to 0 anyway)
  out.writeUInt16BE(base, 2);
  out.writeUInt16BE(protectionLength, 10);
  out.writeUInt16BE(mask, 12);
  return out;
}

function sequenceOf(packet: Uint8Array): number {
  return ((packet[2] ?? 0) << 8) | (packet[3] ?? 0);
}
