/**
 * Draws the remote cursor from the `cursor` channel over the video: shapes are decoded once and
 * cached by serial, positions (remote display pixels) are scaled onto the content rectangle.
 */
import type { CursorShape } from '../protocol/datachannel.js';
import type { Rect } from './content-rect.js';
import { displayToClient } from './content-rect.js';
import { CursorCache, decodeCursorShape, type DecodedCursor } from './cursor-pixels.js';
import { el } from './dom.js';

interface CachedCursor {
  decoded: DecodedCursor;
  image: ImageData;
}

export class RemoteCursor {
  readonly canvas = el('canvas', { className: 'remote-cursor', attrs: { 'aria-hidden': 'true' } });
  private readonly cache = new CursorCache<CachedCursor>();
  private drawnSerial: number | undefined;
  private position: { x: number; y: number; visible: boolean; serial: number } | undefined;
  private placement: { rect: Rect; displayWidth: number; displayHeight: number } | undefined;

  /** True once a shape is known: the stage then hides the local cursor over the video. */
  get hasShape(): boolean {
    return this.cache.size > 0;
  }

  addShape(shape: CursorShape): void {
    const decoded = decodeCursorShape(shape);
    this.cache.set(shape.serial, {
      decoded,
      image: new ImageData(decoded.pixels, decoded.width, decoded.height),
    });
    if (this.position?.serial === shape.serial) this.drawnSerial = undefined;
    this.render();
  }

  move(x: number, y: number, visible: boolean, serial: number): void {
    this.position = { x, y, visible, serial };
    this.render();
  }

  /** The content rectangle (stage-local) and the remote display's size in pixels. */
  place(rect: Rect | undefined, displayWidth: number, displayHeight: number): void {
    this.placement = rect ? { rect, displayWidth, displayHeight } : undefined;
    this.render();
  }

  reset(): void {
    this.position = undefined;
    this.drawnSerial = undefined;
    this.canvas.hidden = true;
  }

  private render(): void {
    const pos = this.position;
    const cached = pos && this.cache.get(pos.serial);
    if (!pos?.visible || !cached || !this.placement) {
      this.canvas.hidden = true;
      return;
    }
    const { decoded, image } = cached;
    if (this.drawnSerial !== pos.serial) {
      this.canvas.width = decoded.width;
      this.canvas.height = decoded.height;
      this.canvas.getContext('2d')?.putImageData(image, 0, 0);
      this.drawnSerial = pos.serial;
    }
    const { rect, displayWidth, displayHeight } = this.placement;
    const at = displayToClient(rect, displayWidth, displayHeight, pos.x, pos.y);
    // CSSOM writes are allowed under `style-src 'self'`; only inline style attributes are not.
    this.canvas.style.width = `${decoded.width * at.scale}px`;
    this.canvas.style.height = `${decoded.height * at.scale}px`;
    this.canvas.style.transform = `translate(${at.x - decoded.hotX * at.scale}px, ${at.y - decoded.hotY * at.scale}px)`;
    this.canvas.hidden = false;
  }
}
