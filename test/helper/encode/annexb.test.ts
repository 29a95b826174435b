import { describe, expect, it } from 'vitest';
import {
  avccToAnnexB,
  nalTypes,
  parseAvcDecoderConfig,
  splitAnnexB,
  withParameterSets,
} from '../../../src/helper/encode/annexb.js';
import { FlvReader } from '../../../src/helper/encode/flv-reader.js';
import { levelFor, parseProfileLevelId } from '../../../src/helper/encode/h264-profile.js';

const sps = Buffer.from([0x67, 0x42, 0xc0, 0x1f, 0xaa]);
const pps = Buffer.from([0x68, 0xce, 0x3c, 0x80]);
const idr = Buffer.from([0x65, 0x88, 0x84, 0x00, 0x33]);
const slice = Buffer.from([0x41, 0x9a, 0x02]);
const avcC = Buffer.concat([
  Buffer.from([1, 0x42, 0xc0, 0x1f, 0xff, 0xe1, 0, sps.length]),
  sps,
  Buffer.from([1, 0, pps.length]),
  pps,
]);
const avcc = (...nals: Buffer[]): Buffer =>
  Buffer.concat(nals.flatMap((n) => [Buffer.from([0, 0, 0, n.length]), n]));

describe('Annex-B helpers', () => {
  it('splits on 3- and 4-byte start codes', () => {
    const stream = Buffer.concat([Buffer.from([0, 0, 0, 1]), sps, Buffer.from([0, 0, 1]), pps]);
    expect(splitAnnexB(stream).map((n) => Buffer.from(n))).toEqual([sps, pps]);
  });

  it('converts AVCC to Annex-B and rejects a length that overruns', () => {
    expect(nalTypes(Buffer.concat(avccToAnnexB(avcc(idr, slice))))).toEqual([5, 1]);
    expect(() => avccToAnnexB(Buffer.from([0, 0, 0, 9, 1, 2]))).toThrow(/overruns/);
  });

  it('parses an avcC record and puts SPS/PPS in front of an IDR only', () => {
    const config = parseAvcDecoderConfig(avcC);
    expect(config).toMatchObject({ profileIdc: 0x42, levelIdc: 0x1f, lengthSize: 4 });
    const ps = Buffer.concat([Buffer.from([0, 0, 0, 1]), sps, Buffer.from([0, 0, 0, 1]), pps]);
    expect(nalTypes(withParameterSets(Buffer.concat(avccToAnnexB(avcc(idr))), ps))).toEqual([7, 8, 5]);
    expect(nalTypes(withParameterSets(Buffer.concat(avccToAnnexB(avcc(slice))), ps))).toEqual([1]);
    expect(() => parseAvcDecoderConfig(avcC.subarray(0, 10))).toThrow(/truncated/);
  });
});

describe('FLV reader', () => {
  const tag = (body: Buffer): Buffer => {
    const h = Buffer.alloc(11);
    h[0] = 9;
    h.writeUIntBE(body.length, 1, 3);
    const prev = Buffer.alloc(4);
    prev.writeUInt32BE(body.length + 11);
    return Buffer.concat([h, body, prev]);
  };
  const header = Buffer.from([0x46, 0x4c, 0x56, 1, 1, 0, 0, 0, 9, 0, 0, 0, 0]);
  const stream = Buffer.concat([
    header,
    tag(Buffer.concat([Buffer.from([0x17, 0, 0, 0, 0]), avcC])),
    tag(Buffer.concat([Buffer.from([0x17, 1, 0, 0, 0]), avcc(idr)])),
    tag(Buffer.concat([Buffer.from([0x27, 1, 0, 0, 0]), avcc(slice)])),
  ]);

  it('yields each access unit as soon as its tag is complete, whatever the chunking', () => {
    for (const step of [1, 7, 64, stream.length]) {
      const reader = new FlvReader();
      const frames = [];
      for (let p = 0; p < stream.length; p += step) frames.push(...reader.push(stream.subarray(p, p + step)));
      expect(frames.map((f) => [f.keyframe, nalTypes(f.data)])).toEqual([
        [true, [7, 8, 5]],
        [false, [1]],
      ]);
    }
  });

  it('rejects a stream that is not FLV', () => {
    expect(() => new FlvReader().push(Buffer.from('not an flv stream'))).toThrow(/signature/);
  });
});

describe('H.264 profile and level', () => {
  it('reads the SDP profile-level-id and raises the level to what the size needs', () => {
    expect(parseProfileLevelId('42e01f')).toEqual({ profileIdc: 66, constraints: 0xe0, levelIdc: 31 });
    expect(levelFor(1280, 720, 30, 31)).toBe(31);
    expect(levelFor(1920, 1080, 30, 31)).toBe(40);
    expect(levelFor(1920, 1080, 60, 31)).toBe(42);
    expect(() => parseProfileLevelId('42e0')).toThrow(/6 hex digits/);
  });
});
