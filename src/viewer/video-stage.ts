/**
 * The area under the top bar: the video placed exactly on its content rectangle (object-fit: contain
 * done by hand, so the rectangle that input is normalised over is known), the remote cursor, and the
 * hidden text area that takes keyboard focus and IME composition while the stage is in use.
 */
import { contentRect, type Rect } from './content-rect.js';
import { el } from './dom.js';
import { RemoteCursor } from './remote-cursor.js';

export class VideoStage {
  readonly root = el('main', { className: 'stage', attrs: { id: 'stage' } });
  readonly video = el('video', { attrs: { id: 'video', 'aria-label': 'Remote desktop' } });
  /** Focus target for keys: a textarea, because only an editable element receives composition events. */
  readonly keySink = el('textarea', {
    className: 'key-sink',
    attrs: { 'aria-label': 'Keyboard input to the remote desktop', autocomplete: 'off', spellcheck: 'false' },
  });
  readonly cursor = new RemoteCursor();
  readonly placeholder = el('div', { className: 'placeholder', text: 'Not connected' });
  private localRect: Rect | undefined;
  private display: { width: number; height: number } | undefined;

  constructor() {
    this.video.autoplay = true;
    this.video.muted = true;
    this.video.playsInline = true;
    this.video.hidden = true;
    this.root.tabIndex = -1;
    this.root.append(this.video, this.cursor.canvas, this.keySink, this.placeholder);
    new ResizeObserver(() => this.layout()).observe(this.root);
    this.video.addEventListener('loadedmetadata', () => this.layout());
    // Fires when the helper switches displays and the stream's resolution changes.
    this.video.addEventListener('resize', () => this.layout());
    this.cursor.reset();
  }

  show(stream: MediaStream): void {
    this.video.srcObject = stream;
    this.video.play().catch(() => {
      // Autoplay of a muted video is always allowed; a rejection here means the stream ended.
    });
    this.layout();
  }

  clear(message: string): void {
    this.video.srcObject = null;
    this.video.hidden = true;
    this.localRect = undefined;
    this.cursor.reset();
    this.placeholder.textContent = message;
    this.placeholder.hidden = false;
  }

  /** The remote display's size, for placing the cursor (its positions are display pixels). */
  setDisplaySize(size: { width: number; height: number } | undefined): void {
    this.display = size;
    this.layout();
  }

  /** The content rectangle in client (viewport) coordinates, as pointer events report positions. */
  clientContentRect(): Rect | undefined {
    if (!this.localRect) return undefined;
    const box = this.root.getBoundingClientRect();
    return { ...this.localRect, left: this.localRect.left + box.left, top: this.localRect.top + box.top };
  }

  setRemoteCursorShown(shown: boolean): void {
    this.root.classList.toggle('remote-cursor-on', shown);
  }

  layout(): void {
    const rect = contentRect(
      { left: 0, top: 0, width: this.root.clientWidth, height: this.root.clientHeight },
      this.video.videoWidth,
      this.video.videoHeight,
    );
    this.localRect = rect;
    if (!rect) {
      this.cursor.place(undefined, 0, 0);
      return;
    }
    this.placeholder.hidden = true;
    this.video.hidden = false;
    // CSSOM writes are allowed under `style-src 'self'`; only inline style attributes are not.
    Object.assign(this.video.style, {
      left: `${rect.left}px`,
      top: `${rect.top}px`,
      width: `${rect.width}px`,
      height: `${rect.height}px`,
    });
    const display = this.display ?? { width: this.video.videoWidth, height: this.video.videoHeight };
    this.cursor.place(rect, display.width, display.height);
  }
}
