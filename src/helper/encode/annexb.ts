/**
 * H.264 NAL unit helpers: Annex-B (start-code) streams, AVCC (length-prefixed) payloads and the
 * AVCDecoderConfigurationRecord that carries SPS/PPS in containers.
 *
 * WebRTC packetizers and browsers want each access unit as Annex-B with SPS and PPS in front of every
 * IDR, so a viewer that joins (or recovers) at any keyframe can start decoding there.
 */

export const NAL_SLICE = 1;
export const NAL_IDR = 5;
export const NAL_SEI = 6;
export const NAL_SPS = 7;
export const NAL_PPS = 8;
export const NAL_AUD = 9;

const START_CODE = Buffer.from([0, 0, 0, 1]);

/** The NAL units of an Annex-B buffer, without their start codes. */
export function splitAnnexB(data: Uint8Array): Uint8Array[] {
  const starts: { at: number; len: number }[] = [];
  for (let i = 0; i + 2 < data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0) {
      if (data[i + 2] === 1) {
        starts.push({ at: i, len: 3 });
        i += 2;
      } else if (data[i + 2] === 0 && data[i + 3] === 1) {
        starts.push({ at: i, len: 4 });
        i += 3;
      }
    }
  }
  return starts.map((s, k) => data.subarray(s.at + s.len, starts[k + 1]?.at ?? data.length));
}

export function nalType(nal: Uint8Array): number {
  return (nal[0] ?? 0) & 0x1f;
}

/** NAL unit types in order, e.g. [7, 8, 5] for SPS, PPS, IDR slice. */
export function nalTypes(annexB: Uint8Array): number[] {
  return splitAnnexB(annexB).map(nalType);
}

/** AVCC (each NAL prefixed by its length in `lengthSize` bytes) to Annex-B. Throws on a bad length. */
export function avccToAnnexB(data: Uint8Array, lengthSize = 4): Buffer[] {
  const out: Buffer[] = [];
  let p = 0;
  while (p < data.length) {
    if (p + lengthSize > data.length) throw new RangeError(`AVCC: truncated length at ${p}`);
    let len = 0;
    for (let i = 0; i < lengthSize; i++) len = len * 256 + (data[p + i] ?? 0);
    p += lengthSize;
    if (len === 0 || p + len > data.length)
      throw new RangeError(`AVCC: NAL length ${len} at ${p} overruns ${data.length}`);
    out.push(START_CODE, Buffer.from(data.buffer, data.byteOffset + p, len));
    p += len;
  }
  return out;
}

export interface AvcDecoderConfig {
  profileIdc: number;
  constraintFlags: number;
  levelIdc: number;
  lengthSize: number;
  sps: Uint8Array[];
  pps: Uint8Array[];
}

/** Parses an AVCDecoderConfigurationRecord (ISO/IEC 14496-15), checking every length. */
export function parseAvcDecoderConfig(data: Uint8Array): AvcDecoderConfig {
  const need = (p: number, n: number, what: string): void => {
    if (p + n > data.length) throw new RangeError(`avcC: truncated ${what}`);
  };
  need(0, 6, 'header');
  if (data[0] !== 1) throw new RangeError(`avcC: version ${data[0]} is not 1`);
  const lengthSize = ((data[4] ?? 0) & 3) + 1;
  let p = 5;
  const read = (count: number, what: string): Uint8Array[] => {
    const list: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      need(p, 2, what);
      const len = ((data[p] ?? 0) << 8) | (data[p + 1] ?? 0);
      p += 2;
      need(p, len, what);
      list.push(data.subarray(p, p + len));
      p += len;
    }
    return list;
  };
  const sps = read((data[p++] ?? 0) & 0x1f, 'SPS');
  need(p, 1, 'PPS count');
  const pps = read(data[p++] ?? 0, 'PPS');
  return {
    profileIdc: data[1] ?? 0,
    constraintFlags: data[2] ?? 0,
    levelIdc: data[3] ?? 0,
    lengthSize,
    sps,
    pps,
  };
}

/** Annex-B bytes of parameter sets, to put in front of an IDR that lacks them. */
export function parameterSetsAnnexB(config: AvcDecoderConfig): Buffer {
  return Buffer.concat([...config.sps, ...config.pps].flatMap((nal) => [START_CODE, nal]));
}

/** True when the access unit holds an IDR slice. */
export function isIdrAccessUnit(annexB: Uint8Array): boolean {
  return nalTypes(annexB).includes(NAL_IDR);
}

/** Puts SPS/PPS in front of an IDR access unit that does not carry them already. */
export function withParameterSets(annexB: Buffer, parameterSets: Buffer | undefined): Buffer {
  if (!parameterSets || parameterSets.length === 0) return annexB;
  const types = nalTypes(annexB);
  if (!types.includes(NAL_IDR) || types.includes(NAL_SPS)) return annexB;
  return Buffer.concat([parameterSets, annexB]);
}

/**
 * An Annex-B stream cut into access units: a new one starts at an access unit delimiter, SPS, PPS or
 * SEI that follows a slice, or at a slice whose first_mb_in_slice is 0 (its first bit after the NAL
 * header is 1, ue(v) for 0). Enough for streams porthole and ffmpeg write (no arbitrary slice order).
 */
export function splitAccessUnits(stream: Uint8Array): Buffer[] {
  const units: Buffer[][] = [];
  let current: Buffer[] = [];
  let sawSlice = false;
  for (const nal of splitAnnexB(stream)) {
    const type = nalType(nal);
    const slice = type === NAL_SLICE || type === NAL_IDR;
    const startsUnit =
      sawSlice &&
      ((slice && ((nal[1] ?? 0) & 0x80) !== 0) || [NAL_AUD, NAL_SPS, NAL_PPS, NAL_SEI].includes(type));
    if (startsUnit) {
      units.push(current);
      current = [];
      sawSlice = false;
    }
    current.push(START_CODE, Buffer.from(nal));
    if (slice) sawSlice = true;
  }
  if (current.length > 0) units.push(current);
  return units.map((u) => Buffer.concat(u));
}
