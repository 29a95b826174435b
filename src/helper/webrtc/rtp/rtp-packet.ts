/**
 * RTP packets (RFC 3550 §5.1) as the helper's video sender writes them, with at most one header
 * extension element in the one-byte form (RFC 8285 §4.2).
 */

export const RTP_HEADER_BYTES = 12;

export interface RtpHeader {
  payloadType: number;
  /** 16-bit sequence number. */
  sequence: number;
  /** 32-bit media timestamp. */
  timestamp: number;
  ssrc: number;
  marker: boolean;
}

export interface RtpExtension {
  /** 1–14: the id the viewer's offer gave the extension. */
  id: number;
  /** 1–16 bytes. */
  data: Uint8Array;
}

export function rtpPacket(header: RtpHeader, payload: Uint8Array, extension?: RtpExtension): Buffer {
  let extBytes = 0;
  if (extension) {
    const { id, data } = extension;
    if (id < 1 || id > 14 || data.length < 1 || data.length > 16)
      throw new RangeError(`bad one-byte header extension: id ${id}, ${data.length} bytes`);
    extBytes = 4 + Math.ceil((1 + data.length) / 4) * 4;
  }
  const packet = Buffer.alloc(RTP_HEADER_BYTES + extBytes + payload.length);
  packet[0] = 0x80 | (extension ? 0x10 : 0);
  packet[1] = (header.marker ? 0x80 : 0) | (header.payloadType & 0x7f);
  packet.writeUInt16BE(header.sequence & 0xffff, 2);
  packet.writeUInt32BE(header.timestamp >>> 0, 4);
  packet.writeUInt32BE(header.ssrc >>> 0, 8);
  if (extension) {
    const at = RTP_HEADER_BYTES;
    packet.writeUInt16BE(0xbede, at);
    packet.writeUInt16BE((extBytes - 4) / 4, at + 2);
    packet[at + 4] = (extension.id << 4) | (extension.data.length - 1);
    packet.set(extension.data, at + 5);
    // The rest of the block stays zero: padding (RFC 8285 §4.2).
  }
  packet.set(payload, RTP_HEADER_BYTES + extBytes);
  return packet;
}

/** The sequence number of an RTP packet this sender wrote. */
export function rtpSequence(packet: Uint8Array): number {
  return ((packet[2] ?? 0) << 8) | (packet[3] ?? 0);
}

/** Playout delay (http://www.webrtc.org/experiments/rtp-hdrext/playout-delay): min and max in 10 ms. */
export function playoutDelay(minMs: number, maxMs: number): Uint8Array {
  const min = Math.min(0xfff, Math.round(minMs / 10));
  const max = Math.min(0xfff, Math.round(maxMs / 10));
  return Uint8Array.of(min >> 4, ((min & 0xf) << 4) | (max >> 8), max & 0xff);
}
