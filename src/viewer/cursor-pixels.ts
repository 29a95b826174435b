/**
 * Decodes `cursor_shape` messages (base64 straight RGBA) and keeps recent shapes by serial: the
 * helper resends a shape only when it changes, and cursors alternate among a handful of shapes.
 */
import type { CursorShape } from '../protocol/datachannel.js';

export interface DecodedCursor {
  serial: number;
  width: number;
  height: number;
  hotX: number;
  hotY: number;
  pixels: Uint8ClampedArray<ArrayBuffer>;
}

/** base64 → bytes with atob, which browsers and Node ≥ 16 both have (no Buffer in the viewer). */
export function decodeCursorShape(shape: CursorShape): DecodedCursor {
  const binary = atob(shape.rgba);
  const pixels = new Uint8ClampedArray(binary.length);
  for (let i = 0; i < binary.length; i++) pixels[i] = binary.charCodeAt(i);
  if (pixels.length !== shape.width * shape.height * 4) {
    throw new Error(`cursor ${shape.serial}: ${pixels.length} bytes for ${shape.width}×${shape.height}`);
  }
  return {
    serial: shape.serial,
    width: shape.width,
    height: shape.height,
    hotX: shape.hotX,
    hotY: shape.hotY,
    pixels,
  };
}

/** A small least-recently-used map: a hostile helper sending endless serials cannot grow it. */
export class CursorCache<T> {
  private readonly entries = new Map<number, T>();
  constructor(private readonly capacity = 32) {}

  get(serial: number): T | undefined {
    const v = this.entries.get(serial);
    if (v !== undefined) {
      this.entries.delete(serial);
      this.entries.set(serial, v);
    }
    return v;
  }

  set(serial: number, value: T): void {
    this.entries.delete(serial);
    this.entries.set(serial, value);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as number;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
