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
  /**
   * Where a relayed desktop (relay-connection.ts) draws the frames WebCodecs decodes; shown instead of
   * the video element while frames arrive that way.
   */
  readonly canvas = el('canvas', {
    className: 'relay-video',
    attrs: { id: 'relay-video', 'aria-label': 'Remote desktop' },
  });
  private drawing: CanvasRenderingContext2D | null | undefined;
  /** Frames come to the canvas (relay) rather than to the video element (WebRTC). */
  private onCanvas = false;
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
    this.canvas.hidden = true;
    this.root.tabIndex = -1;
    this.root.append(this.video, this.canvas, this.cursor.canvas, this.keySink, this.placeholder);
    new ResizeObserver(() => this.layout()).observe(this.root);
    this.video.addEventListener('loadedmetadata', () => this.layout());
    // Fires when the helper switches displays and the stream's resolution changes.
    this.video.addEventListener('resize', () => this.layout());
    this.cursor.reset();
  }

  /** The element showing the desktop now: the video (WebRTC) or the canvas (relay). */
  get surface(): HTMLVideoElement | HTMLCanvasElement {
    return this.onCanvas ? this.canvas : this.video;
  }

  /** Draws one decoded frame of a relayed desktop and releases it (WebCodecs frames hold GPU memory). */
  drawFrame(frame: VideoFrame): void {
    try {
      const resized = this.canvas.width !== frame.displayWidth || this.canvas.height !== frame.displayHeight;
      if (resized) {
        this.canvas.width = frame.displayWidth;
        this.canvas.height = frame.displayHeight;
      }
      this.drawing ??= this.canvas.getContext('2d', { alpha: false });
      this.drawing?.drawImage(frame, 0, 0);
      if (!this.onCanvas || resized) {
        this.onCanvas = true;
        this.video.hidden = true;
        this.layout();
      }
    } finally {
      frame.close();
    }
  }

  show(stream: MediaStream): void {
    this.onCanvas = false;
    this.canvas.hidden = true;
    this.video.srcObject = stream;
    this.video.play().catch(() => {
      // Autoplay of a muted video is always allowed; a rejection here means the stream ended.
    });
    this.layout();
  }

  clear(message: string): void {
    this.video.srcObject = null;
    this.video.hidden = true;
    this.onCanvas = false;
    this.canvas.hidden = true;
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
    const [width, height] = this.onCanvas
      ? [this.canvas.width, this.canvas.height]
      : [this.video.videoWidth, this.video.videoHeight];
    const rect = contentRect(
      { left: 0, top: 0, width: this.root.clientWidth, height: this.root.clientHeight },
      width,
      height,
    );
    this.localRect = rect;
    if (!rect) {
      this.cursor.place(undefined, 0, 0);
      return;
    }
    this.placeholder.hidden = true;
    const surface = this.surface;
    surface.hidden = false;
    // CSSOM writes are allowed under `style-src 'self'`; only inline style attributes are not.
    Object.assign(surface.style, {
      left: `${rect.left}px`,
      top: `${rect.top}px`,
      width: `${rect.width}px`,
      height: `${rect.height}px`,
    });
    const display = this.display ?? { width, height };
    this.cursor.place(rect, display.width, display.height);
  }
}
