/**
 * The GDI capturer, the fallback when DXGI Desktop Duplication is not available (Wine, some remote
 * sessions, old drivers): each grab BitBlts the display's rectangle from the screen DC into a top-down
 * 32-bit DIB section and compares it with the previous frame row by row, so an unchanged screen is
 * reported as `changed: false` with the changed rows as dirty bands.
 *
 * Every grab first moves this thread to the input desktop (InputDesktopFollower), so the lock screen
 * and UAC prompts are captured when the helper has the rights to open them.
 */
import koffi from 'koffi';
import { CAPTUREBLT, DIB_RGB_COLORS, gdi32, SRCCOPY, topDownBgraHeader } from '../../native/win32/gdi32.js';
import { isNullOrInvalid, type Handle } from '../../native/win32/library.js';
import { user32 } from '../../native/win32/user32.js';
import { lastError } from '../../native/win32/last-error.js';
import { InputDesktopFollower } from '../win32-input-desktop/input-desktop-follower.js';
import {
  CaptureError,
  type CapturedFrame,
  type Capturer,
  type CursorSource,
  type DisplayInfo,
  type FrameSource,
  type Rect,
} from './capturer.js';
import { monotonicUs } from './clock.js';
import { Win32CursorSource } from './win32-cursor.js';
import { listWin32Monitors } from './win32-monitors.js';
import { type Logger } from '../../log/logger.js';

export class Win32GdiCapturer implements Capturer {
  readonly kind = 'win32' as const;
  /** Which Windows API delivers the frames; the DXGI capturer says 'dxgi'. */
  readonly method = 'gdi' as const;
  private readonly follower: InputDesktopFollower;
  private readonly ownsFollower: boolean;

  /** `follower`: the Win32 capturer's, shared with the DXGI backend (then not closed here). */
  constructor(
    private readonly log?: Pick<Logger, 'info' | 'warn'>,
    follower?: InputDesktopFollower,
  ) {
    this.ownsFollower = follower === undefined;
    this.follower = follower ?? new InputDesktopFollower(log);
    this.follower.sync();
  }

  displays(): DisplayInfo[] {
    this.follower.sync();
    return listWin32Monitors();
  }

  openFrameSource(displayIndex: number): FrameSource {
    const all = this.displays();
    const display = all[displayIndex];
    if (!display)
      throw new CaptureError('no_such_display', `no display ${displayIndex} (have ${all.length})`);
    return new GdiFrameSource(display, this.follower);
  }

  openCursorSource(): CursorSource {
    return new Win32CursorSource(this.follower);
  }

  close(): void {
    if (this.ownsFollower) this.follower.close();
  }
}

/** A DIB section selected into a memory DC, the BitBlt target; released together. */
class DibTarget {
  readonly memDc: Handle;
  private readonly bitmap: Handle;
  private readonly previous: Handle;
  /** The DIB's pixels, in place (Windows-owned memory, valid until `close`). */
  readonly pixels: Uint8Array;

  constructor(width: number, height: number) {
    const g = gdi32();
    this.memDc = g.CreateCompatibleDC(null);
    if (isNullOrInvalid(this.memDc)) throw lastError('CreateCompatibleDC');
    const bits: unknown[] = [null];
    this.bitmap = g.CreateDIBSection(
      this.memDc,
      topDownBgraHeader(width, height),
      DIB_RGB_COLORS,
      bits,
      null,
      0,
    );
    if (isNullOrInvalid(this.bitmap) || bits[0] == null) {
      const err = lastError('CreateDIBSection', `${width}x${height}`);
      g.DeleteDC(this.memDc);
      throw err;
    }
    this.previous = g.SelectObject(this.memDc, this.bitmap);
    this.pixels = new Uint8Array(koffi.view(bits[0], width * height * 4));
  }

  close(): void {
    const g = gdi32();
    g.SelectObject(this.memDc, this.previous);
    g.DeleteObject(this.bitmap);
    g.DeleteDC(this.memDc);
  }
}

class GdiFrameSource implements FrameSource {
  private readonly target: DibTarget;
  /** The last frame handed out: the caller's data, stable until the next grab. */
  private readonly frame: Buffer;
  private readonly stride: number;
  private sequence = 0;
  private closed = false;

  constructor(
    readonly display: DisplayInfo,
    private readonly follower: InputDesktopFollower,
  ) {
    this.stride = display.width * 4;
    this.target = new DibTarget(display.width, display.height);
    this.frame = Buffer.alloc(this.stride * display.height);
  }

  grab(): CapturedFrame {
    if (this.closed) throw new CaptureError('closed', 'grab on a closed frame source');
    this.follower.sync();
    const { x, y, width, height } = this.display;
    const u = user32();
    const g = gdi32();
    // The screen DC is taken per grab: it belongs to the thread's desktop, which may just have changed.
    const screen: Handle = u.GetDC(null);
    if (isNullOrInvalid(screen)) throw new CaptureError('failed', 'GetDC(NULL) returned no screen DC');
    try {
      if (!g.BitBlt(this.target.memDc, 0, 0, width, height, screen, x, y, SRCCOPY | CAPTUREBLT)) {
        const cause = lastError('BitBlt', `display ${this.display.index}`);
        throw new CaptureError('failed', cause.message, { cause });
      }
      g.GdiFlush();
    } finally {
      u.ReleaseDC(null, screen);
    }
    this.sequence += 1;
    const first = this.sequence === 1;
    const dirty = copyChangedRows(this.target.pixels, this.frame, this.stride, width, height, first);
    return {
      data: this.frame,
      width,
      height,
      stride: this.stride,
      // BitBlt leaves the fourth byte of a 32-bit DIB undefined (0 on Windows, anything under Wine).
      format: 'BGRX',
      timestampUs: monotonicUs(),
      changed: dirty.length > 0,
      dirty,
      sequence: this.sequence,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.target.close();
  }
}

/**
 * Copies the rows of `src` that differ from `dst` into `dst` and returns them as full-width bands
 * (all rows when `all`). A row compare is a memcmp; at 1080p a static screen costs ~1 ms.
 */
export function copyChangedRows(
  src: Uint8Array,
  dst: Buffer,
  stride: number,
  width: number,
  height: number,
  all: boolean,
): Rect[] {
  const bands: Rect[] = [];
  const source = Buffer.from(src.buffer, src.byteOffset, src.byteLength);
  let start = -1;
  for (let row = 0; row <= height; row += 1) {
    let differs = false;
    if (row < height) {
      const a = row * stride;
      differs = all || source.compare(dst, a, a + stride, a, a + stride) !== 0;
      if (differs) source.copy(dst, a, a, a + stride);
    }
    if (differs && start < 0) start = row;
    if (!differs && start >= 0) {
      bands.push({ x: 0, y: start, width, height: row - start });
      start = -1;
    }
  }
  return bands;
}
