import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { splitAccessUnits } from '../../src/helper/encode/annexb.js';
import { EncoderError } from '../../src/helper/encode/encoder.js';
import { createEncoder } from '../../src/helper/encode/index.js';
import { decodeWithMf, psnr, type DecodedPicture } from '../../src/helper/encode/mf-decode.js';
import { koffiMfApi } from '../../src/helper/encode/win32-mf-api.js';
import { liveComRefs } from '../../src/native/win32/com.js';

// What Wine 8's mfplat really does (checked on Debian's wine64 8.0): MFStartup and MFTEnumEx work;
// no H.264 encoder MFT is registered, hardware or software (winegstreamer has an H.264 *decoder*, an
// AAC decoder, the colour converter and others, but its H.264 encoder came in later Wine versions).
// So the encoder itself cannot run here: what runs is the enumeration, the encoder's refusal and the
// fall-back, and — through Wine's decoder, which GStreamer's h264parse and libav plugins back — every
// IMFTransform, IMFSample and IMFMediaBuffer call of the bindings on a real transform.
const CONFIG = { width: 320, height: 240, fps: 30, bitrate: 1_000_000 };

describe('Media Foundation under Wine', () => {
  test('MFTEnumEx finds no H.264 encoder MFT, hardware or software, and gives every reference back', () => {
    const before = liveComRefs();
    expect(koffiMfApi.enumerate('hardware-encoder')).toEqual([]);
    expect(koffiMfApi.enumerate('software-encoder')).toEqual([]);
    // winegstreamer's H.264 decoder, registered without MFT_FRIENDLY_NAME_Attribute.
    const decoders = koffiMfApi.enumerate('decoder');
    expect(decoders.map((d) => [d.name, d.hardware])).toEqual([['unnamed MFT', false]]);
    for (const d of decoders) d.release();
    expect(liveComRefs()).toBe(before);
  });

  test('--encoder mf is unavailable and says why; auto then tries ffmpeg, which this prefix lacks', async () => {
    const before = liveComRefs();
    const mf = await createEncoder(CONFIG, { kind: 'mf' }).catch((e: unknown) => e);
    expect(mf).toBeInstanceOf(EncoderError);
    expect(mf).toMatchObject({
      code: 'unavailable',
      message:
        'no Media Foundation H.264 encoder works here (no hardware H.264 encoder MFT; no software H.264 encoder MFT)',
    });
    const auto = await createEncoder(CONFIG, { kind: 'auto' }).catch((e: unknown) => e);
    expect(auto).toBeInstanceOf(EncoderError);
    expect((auto as EncoderError).code).toBe('unavailable');
    expect((auto as Error).message).toMatch(
      /^no H\.264 encoder can start here \(mf: no Media Foundation .*; ffmpeg: no ffmpeg binary found/,
    );
    expect(liveComRefs()).toBe(before);
  });

  test.skipIf(!existsSync('mf-fixture.h264'))(
    "Wine's H.264 decoder MFT decodes an x264 stream through the bindings, to ffmpeg's picture",
    () => {
      const before = liveComRefs();
      const units = splitAccessUnits(readFileSync('mf-fixture.h264'));
      expect(units).toHaveLength(30);
      const pictures: DecodedPicture[] = [];
      expect(decodeWithMf(koffiMfApi, units, 320, 240, (p) => pictures.push(p))).toBe(pictures.length);
      const reference = readFileSync('mf-fixture.nv12');
      const size = 320 * 240 * 1.5;
      // Wine 8's decoder keeps the last picture through MFT_MESSAGE_COMMAND_DRAIN: 29 of 30 come out.
      expect(pictures).toHaveLength(29);
      // Both decoders are libavcodec's: the pictures are bit-exact (Windows' decoder is checked against
      // a PSNR floor by scripts/windows-vm-mf.ts instead).
      for (const [i, p] of pictures.entries()) {
        expect({ i, psnr: psnr(p.nv12, reference.subarray(i * size, (i + 1) * size)) }).toEqual({
          i,
          psnr: Infinity,
        });
      }
      expect(liveComRefs()).toBe(before);
    },
  );
});
