/**
 * BGRA/BGRX → NV12 on the CPU, for encoders that take YUV 4:2:0 (Media Foundation's H.264 MFTs).
 *
 * BT.601, limited range (Y 16–235, Cb/Cr 16–240), the colours ffmpeg's swscale produces from BGRA when
 * told nothing else, and what a decoder assumes for an H.264 stream whose VUI names no matrix: the same
 * picture the ffmpeg encoder sends. Chroma is the mean of each 2×2 block (centre siting). Integer maths
 * with 16-bit fixed-point coefficients (the BT.601 ones scaled by 219/255 and 224/255), so the result is
 * the same everywhere and within rounding of the exact formula.
 *
 * Layout: the Y plane (`height` rows of `width` bytes), then the interleaved CbCr plane (`height / 2`
 * rows of `width` bytes), no padding: `nv12Size(width, height)` bytes.
 */

// Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255, Cb = 128 + (−37.797 R − 74.203 G + 112 B) / 255,
// Cr = 128 + (112 R − 93.786 G − 18.214 B) / 255, each coefficient × 65536 / 255 and rounded (the chroma
// rows still sum to 0, the luma row to 219/255).
const YR = 16829;
const YG = 33039;
const YB = 6416;
const UR = -9714;
const UG = -19070;
const UB = 28784;
const VR = 28784;
const VG = -24103;
const VB = -4681;

export function nv12Size(width: number, height: number): number {
  return width * height + width * (height >> 1);
}

/**
 * Converts `height` rows of `width` 32-bit B G R x pixels (rows `stride` bytes apart) into `out`.
 * `width` and `height` must be even (an H.264 encoder's frame always is, see validateConfig).
 */
export function bgraToNv12(
  src: Uint8Array,
  width: number,
  height: number,
  stride: number,
  out: Uint8Array = new Uint8Array(nv12Size(width, height)),
): Uint8Array {
  if (width % 2 || height % 2 || width <= 0 || height <= 0)
    throw new RangeError(`NV12 needs an even size, not ${width}×${height}`);
  if (stride < width * 4 || src.length < stride * (height - 1) + width * 4)
    throw new RangeError(
      `BGRA buffer of ${src.length} bytes (stride ${stride}) is too small for ${width}×${height}`,
    );
  if (out.length < nv12Size(width, height))
    throw new RangeError(`NV12 buffer of ${out.length} bytes is too small for ${width}×${height}`);
  const uvBase = width * height;
  // Whole pixels as 32-bit little-endian words (B G R x → x<<24 | R<<16 | G<<8 | B): one load per pixel
  // instead of three. Rows that are not 4-byte aligned are copied into aligned ones first (~1 ms at 1080p).
  let words: Uint32Array;
  let wordStride: number;
  if ((src.byteOffset & 3) === 0 && (stride & 3) === 0) {
    words = new Uint32Array(src.buffer, src.byteOffset, (stride * (height - 1) + width * 4) >> 2);
    wordStride = stride >> 2;
  } else {
    const aligned = new Uint8Array(width * 4 * height);
    for (let y = 0; y < height; y++)
      aligned.set(src.subarray(y * stride, y * stride + width * 4), y * width * 4);
    words = new Uint32Array(aligned.buffer);
    wordStride = width;
  }
  for (let y = 0; y < height; y += 2) {
    const y0 = y * width;
    const y1 = y0 + width;
    const row0 = y * wordStride;
    const row1 = row0 + wordStride;
    let uv = uvBase + (y >> 1) * width;
    for (let x = 0; x < width; x += 2) {
      const p00 = words[row0 + x]!;
      const p01 = words[row0 + x + 1]!;
      const p10 = words[row1 + x]!;
      const p11 = words[row1 + x + 1]!;
      const b00 = p00 & 255,
        g00 = (p00 >>> 8) & 255,
        r00 = (p00 >>> 16) & 255;
      const b01 = p01 & 255,
        g01 = (p01 >>> 8) & 255,
        r01 = (p01 >>> 16) & 255;
      const b10 = p10 & 255,
        g10 = (p10 >>> 8) & 255,
        r10 = (p10 >>> 16) & 255;
      const b11 = p11 & 255,
        g11 = (p11 >>> 8) & 255,
        r11 = (p11 >>> 16) & 255;
      out[y0 + x] = ((YR * r00 + YG * g00 + YB * b00 + 32768) >> 16) + 16;
      out[y0 + x + 1] = ((YR * r01 + YG * g01 + YB * b01 + 32768) >> 16) + 16;
      out[y1 + x] = ((YR * r10 + YG * g10 + YB * b10 + 32768) >> 16) + 16;
      out[y1 + x + 1] = ((YR * r11 + YG * g11 + YB * b11 + 32768) >> 16) + 16;
      const r = r00 + r01 + r10 + r11;
      const g = g00 + g01 + g10 + g11;
      const bl = b00 + b01 + b10 + b11;
      // The 2×2 sums are 4× a pixel: the shift is 16 + 2 (`>>` floors, so +half rounds to nearest).
      out[uv++] = ((UR * r + UG * g + UB * bl + 131072) >> 18) + 128;
      out[uv++] = ((VR * r + VG * g + VB * bl + 131072) >> 18) + 128;
    }
  }
  return out;
}
