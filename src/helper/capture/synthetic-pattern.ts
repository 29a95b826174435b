/**
 * The synthetic screen's picture: a texture that scrolls (full-screen motion, the encoder's worst
 * case), a box that moves over a flat background (a window being dragged), or a still image. Rows are
 * pre-rendered once so a 1080p frame costs a few row copies, not per-pixel work.
 */

export type SyntheticMotion = 'full' | 'box' | 'static';

export class SyntheticPattern {
  /** Two periods of each row, so any scroll offset is one contiguous slice. */
  private readonly rows: Uint8Array[];
  private readonly background: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly motion: SyntheticMotion,
  ) {
    this.rows = [];
    const bands = 8;
    for (let y = 0; y < height; y++) {
      const row = new Uint8Array(width * 8);
      for (let x = 0; x < width * 2; x++) {
        const xx = x % width;
        const o = x * 4;
        // Diagonal colour bands with fine detail, so motion costs the encoder real bits.
        row[o] = (xx * 255) / width;
        row[o + 1] = (((xx + y) * bands * 255) / (width + height)) & 255;
        row[o + 2] = (y * 255) / height;
        row[o + 3] = 255;
        if ((xx ^ y) & 8) row[o + 1] = (row[o + 1] ?? 0) ^ 0x40;
      }
      this.rows.push(row);
    }
    this.background = new Uint8Array(width * 4).fill(48);
  }

  /** Draws frame `n` into `data` (BGRA with `stride`). */
  draw(data: Uint8Array, stride: number, n: number): void {
    const { width, height } = this;
    if (this.motion === 'box') {
      for (let y = 0; y < height; y++) data.set(this.background, y * stride);
      const size = Math.max(16, Math.min(width, height) >> 2);
      const bx = (n * 8) % Math.max(1, width - size);
      const by = (n * 4) % Math.max(1, height - size);
      for (let y = by; y < by + size; y++) {
        const row = this.rows[y];
        if (row) data.set(row.subarray(bx * 4, (bx + size) * 4), y * stride + bx * 4);
      }
      return;
    }
    const shift = this.motion === 'full' ? (n * 8) % width : 0;
    for (let y = 0; y < height; y++) {
      const row = this.rows[y];
      if (row) data.set(row.subarray(shift * 4, (shift + width) * 4), y * stride);
    }
  }
}
