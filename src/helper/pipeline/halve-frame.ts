/**
 * Halves a 32-bit BGRA/BGRX frame in each direction, each output pixel the mean of a 2×2 block (a box
 * filter: what a downscale of screen content needs, no ringing around text). The output size is the
 * half rounded down to even numbers (picture-scale.ts `scaledSize`), its rows tightly packed.
 *
 * Four channels are averaged at once per 32-bit word: masking alternate bytes leaves two channels per
 * word 16 bits apart, and four of them (at most 4 × 255 = 1020) add up without carrying into the next.
 * That path needs the rows 4-byte aligned, as every capturer here delivers them; others take the
 * byte-by-byte path. Measured by `npm run bench halve-frame` (design/BENCHMARKS.md).
 */
import type { RawFrame } from '../encode/encoder.js';
import { scaledSize } from './picture-scale.js';

const EVEN_BYTES = 0x00ff00ff;

export function halveFrame(frame: RawFrame): RawFrame {
  const { width, height } = scaledSize(frame.width, frame.height, 2);
  const out = new Uint8Array(width * height * 4);
  const aligned = frame.data.byteOffset % 4 === 0 && frame.stride % 4 === 0;
  if (aligned) halveWords(frame, width, height, out);
  else halveBytes(frame, width, height, out);
  return {
    data: out,
    width,
    height,
    stride: width * 4,
    format: frame.format,
    timestampUs: frame.timestampUs,
  };
}

function halveWords(frame: RawFrame, width: number, height: number, out: Uint8Array): void {
  const src = new Uint32Array(
    frame.data.buffer,
    frame.data.byteOffset,
    Math.floor(frame.data.byteLength / 4),
  );
  const dst = new Uint32Array(out.buffer);
  const rowWords = frame.stride / 4;
  for (let y = 0; y < height; y++) {
    let top = 2 * y * rowWords;
    let bottom = top + rowWords;
    let o = y * width;
    for (let x = 0; x < width; x++, top += 2, bottom += 2, o++) {
      const a = src[top]!;
      const b = src[top + 1]!;
      const c = src[bottom]!;
      const d = src[bottom + 1]!;
      const even =
        (((a & EVEN_BYTES) + (b & EVEN_BYTES) + (c & EVEN_BYTES) + (d & EVEN_BYTES)) >>> 2) & EVEN_BYTES;
      const odd =
        (((a >>> 8) & EVEN_BYTES) +
          ((b >>> 8) & EVEN_BYTES) +
          ((c >>> 8) & EVEN_BYTES) +
          ((d >>> 8) & EVEN_BYTES)) >>>
        2;
      dst[o] = (even | ((odd & EVEN_BYTES) << 8)) >>> 0;
    }
  }
}

function halveBytes(frame: RawFrame, width: number, height: number, out: Uint8Array): void {
  const src = frame.data;
  const stride = frame.stride;
  for (let y = 0; y < height; y++) {
    const top = 2 * y * stride;
    const bottom = top + stride;
    for (let x = 0; x < width; x++) {
      const i = top + 8 * x;
      const j = bottom + 8 * x;
      const o = 4 * (y * width + x);
      for (let ch = 0; ch < 4; ch++) {
        out[o + ch] = (src[i + ch]! + src[i + 4 + ch]! + src[j + ch]! + src[j + 4 + ch]!) >>> 2;
      }
    }
  }
}
