/**
 * RTP payloads for one H.264 access unit (RFC 6184, packetization-mode=1): a NAL unit that fits goes
 * alone (single NAL unit packet), a larger one is cut into FU-A fragments. SPS and PPS go as their own
 * small packets rather than aggregated (STAP-A): receivers take both, and it keeps one code path.
 */
import { splitAnnexB } from '../../encode/annexb.js';

export const NAL_FU_A = 28;
const FU_START = 0x80;
const FU_END = 0x40;

/** The payloads, in order; the packet carrying the last one gets the RTP marker bit. */
export function h264Payloads(accessUnit: Uint8Array, maxPayload: number): Uint8Array[] {
  if (maxPayload < 3) throw new RangeError(`maxPayload ${maxPayload} leaves no room for a fragment`);
  const out: Uint8Array[] = [];
  for (const nal of splitAnnexB(accessUnit)) {
    if (nal.length === 0) continue;
    if (nal.length <= maxPayload) {
      out.push(nal);
      continue;
    }
    const header = nal[0]!;
    // The FU indicator keeps the NAL unit's F and NRI bits; the FU header carries its type.
    const indicator = (header & 0xe0) | NAL_FU_A;
    const type = header & 0x1f;
    const step = maxPayload - 2;
    for (let at = 1; at < nal.length; at += step) {
      const end = Math.min(nal.length, at + step);
      const fu = Buffer.allocUnsafe(2 + end - at);
      fu[0] = indicator;
      fu[1] = (at === 1 ? FU_START : 0) | (end === nal.length ? FU_END : 0) | type;
      fu.set(nal.subarray(at, end), 2);
      out.push(fu);
    }
  }
  return out;
}
