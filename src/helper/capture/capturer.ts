/**
 * Screen capture: which displays a session has, a frame source per display and the cursor.
 *
 * One interface, one implementation per platform: `x11` (MIT-SHM + DAMAGE through koffi), `synthetic`
 * (a drawn pattern that stamps its frame number and capture time into the pixels, for tests and
 * benchmarks) and `win32` (DXGI Desktop Duplication with a GDI fallback), which delivers the
 * same BGRA frames and the same `changed`/`dirty` information DXGI's frame info already carries.
 */
import { PortholeError } from '../../errors/porthole-error.js';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface DisplayInfo extends Rect {
  /** Position in `displays()`; what callers pass to `openFrameSource`. */
  index: number;
  name: string;
  primary: boolean;
}

/** 32-bit pixels, B G R A in memory order. `BGRX` means the fourth byte is undefined (X11, DXGI). */
export type PixelFormat = 'BGRA' | 'BGRX';

export interface CapturedFrame {
  /**
   * The pixels. Owned by the frame source and reused: valid until the next `grab()` or `close()` on
   * the same source, so copy (or encode) before grabbing again.
   */
  data: Uint8Array;
  width: number;
  height: number;
  /** Bytes per row; at least width × 4. */
  stride: number;
  format: PixelFormat;
  /** When the pixels were read, on the `monotonicUs()` clock. */
  timestampUs: number;
  /** False when nothing on this display changed since the previous grab (the data is then the same). */
  changed: boolean;
  /** The changed rectangles relative to the display, when the platform reports them. */
  dirty?: Rect[];
  /** Grab counter of this source, from 1. */
  sequence: number;
}

export interface FrameSource {
  readonly display: DisplayInfo;
  /** Reads the display now. Synchronous and short (a few ms at 1080p), so callers may tick it. */
  grab(): CapturedFrame;
  /**
   * Optional: resolves as soon as the display may have changed since the last `grab()`, or after
   * `timeoutMs`. A capture loop then sleeps until the screen changes instead of polling it, and grabs
   * a change the moment it is drawn. Sources without it are ticked on a timer.
   */
  waitForChange?(timeoutMs: number): Promise<void>;
  close(): void;
}

export interface CursorShape {
  /** Changes whenever the shape changes; equal serials mean an equal image. */
  serial: number;
  width: number;
  height: number;
  hotX: number;
  hotY: number;
  /** Straight (not premultiplied) RGBA, width × height × 4 bytes. */
  rgba: Uint8Array;
}

export interface CursorState {
  /** Position of the hotspot in desktop coordinates (the same space as `DisplayInfo` x/y). */
  x: number;
  y: number;
  serial: number;
  /** Present when the shape differs from the one the previous `read()` returned. */
  shape?: CursorShape;
}

export interface CursorSource {
  read(): CursorState;
  close(): void;
}

export interface Capturer {
  readonly kind: CapturerKind;
  displays(): DisplayInfo[];
  openFrameSource(displayIndex: number): FrameSource;
  openCursorSource(): CursorSource;
  close(): void;
}

export type CapturerKind = 'x11' | 'synthetic' | 'win32';

/**
 * Why capture failed: `no_such_display` (an index the capturer does not have), `unsupported` (this
 * display or server cannot be captured this way: no MIT-SHM, a depth other than 24/32, no DXGI
 * output), `closed` (a source used after `close()`), `failed` (a capture call failed; `cause` says why).
 */
export type CaptureErrorCode = 'no_such_display' | 'unsupported' | 'closed' | 'failed';

export class CaptureError extends PortholeError<CaptureErrorCode> {
  override name = 'CaptureError';
}
