/**
 * A reader for the RTCP packets the viewer sends back on the video track. libdatachannel hands them to
 * the track's onMessage as raw bytes (there is no keyframe-request callback), so the helper picks out
 * what it acts on: keyframe requests (PLI, FIR), retransmission requests (generic NACK), reception
 * reports (loss, jitter, LSR/DLSR for the round trip) and REMB bandwidth estimates. The bytes come from the network: every length is checked
 * against the buffer and anything malformed ends the walk without throwing.
 */

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_RTPFB = 205;
export const RTCP_PSFB = 206;
export const PSFB_PLI = 1;
export const PSFB_FIR = 4;
export const PSFB_AFB = 15;
export const RTPFB_NACK = 1;

export interface ReceptionReport {
  /** The SSRC the report is about (the sender's, i.e. the helper's video SSRC). */
  ssrc: number;
  /** Fraction of packets lost since the previous report, 0..1. */
  fractionLost: number;
  cumulativeLost: number;
  highestSequence: number;
  /** Interarrival jitter in RTP timestamp units (1/90000 s for video). */
  jitter: number;
  /** Middle 32 bits of the NTP time of the last SR this receiver saw, 0 if none yet. */
  lastSr: number;
  /** Delay since that SR, in 1/65536 s. */
  delaySinceLastSr: number;
}

export type RtcpEvent =
  | { kind: 'pli'; mediaSsrc: number }
  | { kind: 'fir'; mediaSsrc: number }
  | { kind: 'report'; report: ReceptionReport }
  | { kind: 'remb'; bitrate: number; ssrcs: number[] }
  | { kind: 'nack'; mediaSsrc: number; sequences: number[] };

/** Whether a packet on an RTP/RTCP-multiplexed transport is RTCP (RFC 5761 §4). */
export function isRtcp(packet: Uint8Array): boolean {
  if (packet.length < 8 || packet[0]! >> 6 !== 2) return false;
  const pt = packet[1]!;
  return pt >= 192 && pt <= 223;
}

function readReports(view: DataView, offset: number, count: number, end: number, out: RtcpEvent[]): void {
  for (let i = 0; i < count && offset + 24 <= end; i++, offset += 24) {
    const lostWord = view.getUint32(offset + 4);
    // Cumulative lost is a signed 24-bit number (duplicates can make it negative).
    let cumulativeLost = lostWord & 0xff_ffff;
    if (cumulativeLost & 0x80_0000) cumulativeLost -= 0x100_0000;
    out.push({
      kind: 'report',
      report: {
        ssrc: view.getUint32(offset),
        fractionLost: (lostWord >>> 24) / 256,
        cumulativeLost,
        highestSequence: view.getUint32(offset + 8),
        jitter: view.getUint32(offset + 12),
        lastSr: view.getUint32(offset + 16),
        delaySinceLastSr: view.getUint32(offset + 20),
      },
    });
  }
}

function readPsfb(view: DataView, fmt: number, offset: number, end: number, out: RtcpEvent[]): void {
  if (offset + 8 > end) return;
  const mediaSsrc = view.getUint32(offset + 4);
  if (fmt === PSFB_PLI) {
    out.push({ kind: 'pli', mediaSsrc });
  } else if (fmt === PSFB_FIR) {
    // FIR names its target in each FCI entry (SSRC, sequence number); the media SSRC field is unused.
    for (let fci = offset + 8; fci + 8 <= end; fci += 8) {
      out.push({ kind: 'fir', mediaSsrc: view.getUint32(fci) });
    }
  } else if (fmt === PSFB_AFB && offset + 16 <= end && view.getUint32(offset + 8) === 0x52454d42) {
    // 'REMB': number of SSRCs, 6-bit exponent and 18-bit mantissa of the estimate, then the SSRCs.
    const word = view.getUint32(offset + 12);
    const count = word >>> 24;
    const bitrate = (word & 0x3_ffff) * 2 ** ((word >>> 18) & 0x3f);
    const ssrcs: number[] = [];
    for (let i = 0, p = offset + 16; i < count && p + 4 <= end; i++, p += 4) ssrcs.push(view.getUint32(p));
    out.push({ kind: 'remb', bitrate, ssrcs });
  }
}

/** Generic NACK (RFC 4585 §6.2.1): each FCI is a lost packet ID and a bitmask of the 16 after it. */
function readNack(view: DataView, offset: number, end: number, out: RtcpEvent[]): void {
  if (offset + 8 > end) return;
  const mediaSsrc = view.getUint32(offset + 4);
  const sequences: number[] = [];
  for (let fci = offset + 8; fci + 4 <= end; fci += 4) {
    const pid = view.getUint16(fci);
    const blp = view.getUint16(fci + 2);
    sequences.push(pid);
    for (let bit = 0; bit < 16; bit++) if (blp & (1 << bit)) sequences.push((pid + bit + 1) & 0xffff);
  }
  out.push({ kind: 'nack', mediaSsrc, sequences });
}

/** Walks a (possibly compound) RTCP packet and returns the events the helper acts on. */
export function readRtcp(packet: Uint8Array): RtcpEvent[] {
  const out: RtcpEvent[] = [];
  if (!isRtcp(packet)) return out;
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  let offset = 0;
  while (offset + 4 <= packet.length) {
    const first = view.getUint8(offset);
    if (first >> 6 !== 2) break;
    const countOrFmt = first & 0x1f;
    const pt = view.getUint8(offset + 1);
    const end = offset + (view.getUint16(offset + 2) + 1) * 4;
    if (end > packet.length) break;
    if (pt === RTCP_SR) readReports(view, offset + 28, countOrFmt, end, out);
    else if (pt === RTCP_RR) readReports(view, offset + 8, countOrFmt, end, out);
    else if (pt === RTCP_PSFB) readPsfb(view, countOrFmt, offset + 4, end, out);
    else if (pt === RTCP_RTPFB && countOrFmt === RTPFB_NACK) readNack(view, offset + 4, end, out);
    offset = end;
  }
  return out;
}

/** The current wall-clock time as the middle 32 bits of an NTP timestamp (what LSR echoes). */
export function ntpMiddle32(nowMs: number = Date.now()): number {
  const NTP_UNIX_OFFSET_S = 2_208_988_800;
  const seconds = Math.floor(nowMs / 1000) + NTP_UNIX_OFFSET_S;
  const fraction = Math.floor(((nowMs % 1000) / 1000) * 65_536);
  return ((seconds & 0xffff) * 65_536 + fraction) >>> 0;
}

/**
 * Round trip from a reception report (RFC 3550 §6.4.1): arrival − LSR − DLSR, in 1/65536 s.
 * Undefined when the receiver has not seen an SR yet or the result is nonsensical. A result a few
 * milliseconds below zero is the rounding of the two NTP clocks on a very short path and reads as 0.
 */
export function roundTripMs(report: ReceptionReport, arrivalNtp32: number): number | undefined {
  if (report.lastSr === 0) return undefined;
  const units = (arrivalNtp32 - report.lastSr - report.delaySinceLastSr) | 0;
  const ms = (units / 65_536) * 1000;
  if (ms < -5 || ms > 60_000) return undefined;
  return Math.max(0, ms);
}
