/**
 * What the painter draws (BGRX pixels, any stride), kept apart from X so it can be tested:
 * - `flip`: the whole screen one colour, a different one every frame (the worst case for a
 *   frame-differencing encoder: every pixel changes);
 * - `scroll`: a page of text-like glyph rows scrolling up 4 px a frame (a terminal or a web page
 *   scrolling: most pixels move, few change colour).
 */

export type Workload = 'flip' | 'scroll' | 'static';

/** A BGRX colour per frame: eight well-separated colours in turn, never black or white. */
export function flipColour(frame: number): number {
  const palette = [0xc03030, 0x30a040, 0x3050c0, 0xc0a020, 0x20a0b0, 0xa030a0, 0x806040, 0x4080c0];
  return palette[((frame % palette.length) + palette.length) % palette.length] as number;
}

export function fillFlip(data: Uint8Array, stride: number, height: number, frame: number): void {
  const rgb = flipColour(frame);
  // Little-endian 32-bit BGRX: blue in the lowest byte.
  const word = (0xff000000 | rgb) >>> 0;
  const aligned = new Uint32Array(data.buffer, data.byteOffset, Math.floor((stride * height) / 4));
  aligned.fill(word);
}

/** Deterministic 32-bit generator (mulberry32), so every run scrolls the same text. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export const LINE_HEIGHT = 18;
export const SCROLL_PX_PER_FRAME = 4;

/**
 * One screen of "text": dark glyph boxes (7×11, each with a random set of strokes) on a light page,
 * lines of random length. Returned twice over (2 × height rows) so a scrolled window is one copy.
 */
export function textPage(width: number, height: number, stride: number): Uint8Array {
  const page = new Uint8Array(stride * height * 2);
  const words = new Uint32Array(page.buffer);
  words.fill(0xfff4f4f0);
  const rnd = random(0x5eed);
  const ink = 0xff202830;
  for (let top = 0; top + LINE_HEIGHT <= height; top += LINE_HEIGHT) {
    const columns = Math.floor((width - 16) / 8);
    const used = Math.floor(columns * (0.3 + 0.7 * rnd()));
    for (let col = 0; col < used; col++) {
      if (rnd() < 0.15) continue; // a space
      const x0 = 8 + col * 8;
      const strokes = Math.floor(rnd() * 0xffff);
      for (let gy = 0; gy < 11; gy++) {
        for (let gx = 0; gx < 7; gx++) {
          // A 4×4 grid of strokes, scaled to the 7×11 glyph box.
          const bit = Math.floor((gy * 4) / 11) * 4 + Math.floor((gx * 4) / 7);
          if ((strokes >> bit) & 1) words[((top + 3 + gy) * stride) / 4 + x0 + gx] = ink;
        }
      }
    }
  }
  page.copyWithin(stride * height, 0, stride * height);
  return page;
}

/** Copies the window of `page` scrolled for `frame` into `data`. */
export function fillScroll(
  data: Uint8Array,
  page: Uint8Array,
  stride: number,
  height: number,
  frame: number,
): void {
  const offset = (frame * SCROLL_PX_PER_FRAME) % height;
  data.set(page.subarray(offset * stride, (offset + height) * stride));
}
