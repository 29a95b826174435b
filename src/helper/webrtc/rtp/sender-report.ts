/**
 * RTCP sender report with the CNAME (RFC 3550 §6.4.1, §6.5.1), as one compound packet. The viewer
 * needs it for the round trip (it echoes the NTP time in LSR; video-feedback.ts reads it back) and to
 * relate the video's RTP clock to the audio's for lip sync: both tracks' reports use the wall clock.
 */

const RTCP_SR = 200;
const RTCP_SDES = 202;
const SDES_CNAME = 1;
const NTP_UNIX_OFFSET_S = 2_208_988_800;

export interface SenderReportFields {
  ssrc: number;
  /** Wall-clock time of the report, ms since the Unix epoch (Date.now()). */
  wallMs: number;
  /** The RTP timestamp that corresponds to `wallMs` on this stream's media clock. */
  rtpTimestamp: number;
  packets: number;
  octets: number;
  cname: string;
}

export function senderReport(f: SenderReportFields): Buffer {
  const cname = Buffer.from(f.cname, 'utf8').subarray(0, 255);
  // SDES chunk: SSRC, CNAME item (type, length, text), then a zero item ending the list, to 32 bits.
  const chunkBytes = Math.ceil((4 + 2 + cname.length + 1) / 4) * 4;
  const packet = Buffer.alloc(28 + 4 + chunkBytes);
  packet[0] = 0x80;
  packet[1] = RTCP_SR;
  packet.writeUInt16BE(28 / 4 - 1, 2);
  packet.writeUInt32BE(f.ssrc >>> 0, 4);
  const seconds = Math.floor(f.wallMs / 1000) + NTP_UNIX_OFFSET_S;
  const fraction = Math.floor(((f.wallMs % 1000) / 1000) * 2 ** 32);
  packet.writeUInt32BE(seconds >>> 0, 8);
  packet.writeUInt32BE(Math.min(fraction, 0xffff_ffff) >>> 0, 12);
  packet.writeUInt32BE(f.rtpTimestamp >>> 0, 16);
  packet.writeUInt32BE(f.packets >>> 0, 20);
  packet.writeUInt32BE(f.octets >>> 0, 24);
  const sdes = 28;
  packet[sdes] = 0x81;
  packet[sdes + 1] = RTCP_SDES;
  packet.writeUInt16BE((4 + chunkBytes) / 4 - 1, sdes + 2);
  packet.writeUInt32BE(f.ssrc >>> 0, sdes + 4);
  packet[sdes + 8] = SDES_CNAME;
  packet[sdes + 9] = cname.length;
  cname.copy(packet, sdes + 10);
  return packet;
}
