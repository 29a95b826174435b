/**
 * A frame number and capture time written into the pixels, readable again after H.264 encode and
 * decode: three rows of 32 blocks in the top-left corner, each block black (0) or white (1), most
 * significant bit first. Blocks are 16×16 px (smaller on frames narrower than 512 px) and are read at
 * their centre, so compression blur at the block edges does not matter.
 *
 * Row 0: frame number. Row 1: timestamp µs, low 32 bits. Row 2: timestamp bits 32–47, then a 16-bit
 * check word, so a misread stamp is rejected rather than trusted.
 */

export interface FrameStamp {
  frame: number;
  timestampUs: number;
}

const BITS = 32;
const ROWS = 3;

export function stampBlockSize(width: number): number {
  return Math.max(4, Math.min(16, Math.floor(width / BITS)));
}

/** The area the stamp covers; patterns should leave it alone. */
export function stampArea(width: number): { width: number; height: number } {
  const b = stampBlockSize(width);
  return { width: b * BITS, height: b * ROWS };
}

function checkWord(frame: number, tsLow: number, tsHigh: number): number {
  return (((frame >>> 16) ^ frame ^ (tsLow >>> 16) ^ tsLow ^ tsHigh ^ 0xa5a5) & 0xffff) >>> 0;
}

function words(stamp: FrameStamp): [number, number, number] {
  const frame = stamp.frame >>> 0;
  const ts = Math.max(0, Math.floor(stamp.timestampUs));
  const tsLow = (ts % 2 ** 32) >>> 0;
  const tsHigh = Math.floor(ts / 2 ** 32) & 0xffff;
  return [frame, tsLow, ((tsHigh << 16) | checkWord(frame, tsLow, tsHigh)) >>> 0];
}

/** Draws the stamp into a BGRA/BGRX buffer. */
export function writeStamp(data: Uint8Array, width: number, stride: number, stamp: FrameStamp): void {
  const b = stampBlockSize(width);
  const rows = words(stamp);
  for (let row = 0; row < ROWS; row++) {
    const word = rows[row] ?? 0;
    for (let bit = 0; bit < BITS; bit++) {
      const v = (word >>> (BITS - 1 - bit)) & 1 ? 255 : 0;
      for (let y = row * b; y < (row + 1) * b; y++) {
        const start = y * stride + bit * b * 4;
        data.fill(v, start, start + b * 4);
      }
    }
  }
}

/** Reads a stamp back; null when the check word does not match (no stamp, or too damaged). */
export function readStamp(
  data: Uint8Array,
  width: number,
  height: number,
  stride: number,
): FrameStamp | null {
  const b = stampBlockSize(width);
  if (height < b * ROWS) return null;
  const got: number[] = [];
  for (let row = 0; row < ROWS; row++) {
    let word = 0;
    for (let bit = 0; bit < BITS; bit++) {
      // Average the inner half of the block: edges blur, centres survive.
      let sum = 0;
      let n = 0;
      const q = b >> 2;
      for (let y = row * b + q; y < (row + 1) * b - q; y++) {
        for (let x = bit * b + q; x < (bit + 1) * b - q; x++) {
          const o = y * stride + x * 4;
          sum += (data[o] ?? 0) + (data[o + 1] ?? 0) + (data[o + 2] ?? 0);
          n += 3;
        }
      }
      word = ((word << 1) | (sum / n >= 128 ? 1 : 0)) >>> 0;
    }
    got.push(word);
  }
  const [frame = 0, tsLow = 0, last = 0] = got;
  const tsHigh = last >>> 16;
  if ((last & 0xffff) !== checkWord(frame, tsLow, tsHigh)) return null;
  return { frame, timestampUs: tsHigh * 2 ** 32 + tsLow };
}
