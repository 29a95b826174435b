/**
 * Decodes H.264 access units to NV12 with a Media Foundation decoder MFT (Microsoft's, on Windows): the
 * check that what an MF encoder made is a picture Windows' own decoder reads (scripts/windows-vm-mf.ts),
 * run under Wine against Wine's decoder (test/win32/media-foundation.test.ts). Synchronous MFTs only.
 */
import { MFT_MESSAGE } from '../../native/win32/mf-types.js';
import type { MfApi, MfTransform } from './mf-api.js';

export interface DecodedPicture {
  /** The NV12 frame cropped to width × height: the Y plane, then the interleaved CbCr plane. */
  nv12: Uint8Array;
  width: number;
  height: number;
}

/** The decoder pads rows to a multiple of 16 (1080 → 1088): crop its output back to the frame. */
export function cropNv12(data: Uint8Array, width: number, height: number): Uint8Array {
  const tight = width * height * 1.5;
  if (data.length === tight) return data;
  const paddedHeight = Math.round(data.length / 1.5 / width);
  if (paddedHeight < height || paddedHeight * width * 1.5 !== data.length)
    throw new RangeError(`decoded NV12 of ${data.length} bytes does not fit ${width}×${height}`);
  const out = new Uint8Array(tight);
  out.set(data.subarray(0, width * height));
  out.set(data.subarray(width * paddedHeight, width * paddedHeight + (width * height) / 2), width * height);
  return out;
}

/**
 * Decodes `units` in order, handing each picture to `onPicture` as it comes out (none is kept: 300
 * pictures of 1080p would be ~900 MB); returns how many came out.
 */
export function decodeWithMf(
  api: MfApi,
  units: readonly Uint8Array[],
  width: number,
  height: number,
  onPicture: (picture: DecodedPicture, index: number) => void,
  fps = 30,
): number {
  const [first, ...others] = api.enumerate('decoder');
  for (const o of others) o.release();
  if (!first) throw new Error('no H.264 decoder MFT');
  let t: MfTransform | undefined;
  try {
    t = first.activate();
    t.setInputType({ subtype: 'H264', width, height, fps });
    t.useAvailableOutputType('NV12');
    t.processMessage(MFT_MESSAGE.NOTIFY_BEGIN_STREAMING);
    t.processMessage(MFT_MESSAGE.NOTIFY_START_OF_STREAM);
    let count = 0;
    const collect = (): void => {
      for (;;) {
        const out = t!.processOutput();
        if (out === 'need-input') return;
        if (out === 'stream-change') {
          t!.useAvailableOutputType('NV12');
          continue;
        }
        onPicture({ nv12: cropNv12(out.data, width, height), width, height }, count++);
      }
    };
    const duration = Math.round(1e7 / fps);
    units.forEach((unit, i) => {
      if (t!.processInput(unit, i * duration, duration) !== 0) {
        collect();
        t!.processInput(unit, i * duration, duration);
      }
      collect();
    });
    t.processMessage(MFT_MESSAGE.NOTIFY_END_OF_STREAM);
    t.processMessage(MFT_MESSAGE.COMMAND_DRAIN);
    collect();
    return count;
  } finally {
    t?.close();
    first.release();
  }
}

/** PSNR in dB of two equal-length 8-bit planes (Infinity when identical). */
export function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`planes of ${a.length} and ${b.length} bytes`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return sum === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.length) / sum);
}
