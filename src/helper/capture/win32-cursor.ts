/**
 * The cursor on Windows: position and visibility from GetCursorInfo, shape from the cursor's bitmaps
 * (GetIconInfo → GetDIBits), converted to straight RGBA. Shared by the GDI and DXGI capturers.
 */
import koffi from 'koffi';
import { DIB_RGB_COLORS, gdi32, BITMAP, topDownBgraHeader } from '../../native/win32/gdi32.js';
import { isNullOrInvalid, type Handle } from '../../native/win32/library.js';
import { CURSOR_SHOWING, CURSORINFO, user32 } from '../../native/win32/user32.js';
import { lastError } from '../../native/win32/last-error.js';
import type { InputDesktopFollower } from '../win32-input-desktop/input-desktop-follower.js';
import type { CursorShape, CursorSource, CursorState } from './capturer.js';

interface CursorInfoFields {
  cbSize: number;
  flags: number;
  hCursor: Handle;
  ptScreenPos: { x: number; y: number };
}

interface IconInfoFields {
  fIcon: number;
  xHotspot: number;
  yHotspot: number;
  hbmMask: Handle;
  hbmColor: Handle;
}

/** A hidden cursor: a 1×1 transparent image, so the viewer draws nothing. */
const HIDDEN: Omit<CursorShape, 'serial'> = {
  width: 1,
  height: 1,
  hotX: 0,
  hotY: 0,
  rgba: new Uint8Array(4),
};

export class Win32CursorSource implements CursorSource {
  /** Cursor handle address → serial; a handle is one shape for as long as it exists. */
  private readonly serials = new Map<bigint, number>();
  private nextSerial = 1;
  private lastSerial = 0;

  constructor(private readonly follower?: InputDesktopFollower) {}

  read(): CursorState {
    this.follower?.sync();
    const info: CursorInfoFields = {
      cbSize: koffi.sizeof(CURSORINFO),
      flags: 0,
      hCursor: null,
      ptScreenPos: { x: 0, y: 0 },
    };
    if (!user32().GetCursorInfo(info)) throw lastError('GetCursorInfo');
    const visible = (info.flags & CURSOR_SHOWING) !== 0 && !isNullOrInvalid(info.hCursor);
    const key = visible ? koffi.address(info.hCursor) : 0n;
    let serial = this.serials.get(key);
    let shape: CursorShape | undefined;
    if (serial === undefined || serial !== this.lastSerial) {
      if (serial === undefined) {
        serial = this.nextSerial++;
        this.serials.set(key, serial);
      }
      shape = { serial, ...(visible ? readCursorShape(info.hCursor) : HIDDEN) };
    }
    this.lastSerial = serial;
    const state: CursorState = { x: info.ptScreenPos.x, y: info.ptScreenPos.y, serial };
    if (shape) state.shape = shape;
    return state;
  }

  close(): void {
    this.serials.clear();
  }
}

/** The shape of a cursor handle, as straight RGBA. The bitmaps GetIconInfo creates are deleted here. */
export function readCursorShape(cursor: Handle): Omit<CursorShape, 'serial'> {
  const icon: IconInfoFields = { fIcon: 0, xHotspot: 0, yHotspot: 0, hbmMask: null, hbmColor: null };
  if (!user32().GetIconInfo(cursor, icon)) throw lastError('GetIconInfo');
  const g = gdi32();
  try {
    const mask = readBitmap(icon.hbmMask);
    if (!isNullOrInvalid(icon.hbmColor)) {
      const color = readBitmap(icon.hbmColor);
      return {
        width: color.width,
        height: color.height,
        hotX: icon.xHotspot,
        hotY: icon.yHotspot,
        rgba: colorCursorToRgba(color.bgra, mask.bgra, color.width, color.height),
      };
    }
    // Monochrome: the mask bitmap is twice as tall, AND mask on top, XOR mask below.
    const height = Math.floor(mask.height / 2);
    return {
      width: mask.width,
      height,
      hotX: icon.xHotspot,
      hotY: icon.yHotspot,
      rgba: monochromeCursorToRgba(mask.bgra, mask.width, height),
    };
  } finally {
    if (!isNullOrInvalid(icon.hbmMask)) g.DeleteObject(icon.hbmMask);
    if (!isNullOrInvalid(icon.hbmColor)) g.DeleteObject(icon.hbmColor);
  }
}

/** A bitmap's pixels as 32-bit top-down BGRA (GetDIBits converts monochrome to black/white). */
function readBitmap(bitmap: Handle): { width: number; height: number; bgra: Uint8Array } {
  const g = gdi32();
  const bm = {
    bmType: 0,
    bmWidth: 0,
    bmHeight: 0,
    bmWidthBytes: 0,
    bmPlanes: 0,
    bmBitsPixel: 0,
    bmBits: null,
  };
  if (!g.GetObjectW(bitmap, koffi.sizeof(BITMAP), bm)) throw lastError('GetObjectW(HBITMAP)');
  const width = bm.bmWidth;
  const height = Math.abs(bm.bmHeight);
  const bgra = new Uint8Array(width * height * 4);
  const dc: Handle = user32().GetDC(null);
  if (isNullOrInvalid(dc)) throw lastError('GetDC');
  try {
    const lines = g.GetDIBits(dc, bitmap, 0, height, bgra, topDownBgraHeader(width, height), DIB_RGB_COLORS);
    if (lines === 0) throw lastError('GetDIBits');
  } finally {
    user32().ReleaseDC(null, dc);
  }
  return { width, height, bgra };
}

/**
 * A colour cursor: BGRA with alpha when any pixel has alpha; otherwise (old 24-bit-style cursors) the
 * AND mask says which pixels are transparent.
 */
export function colorCursorToRgba(
  bgra: Uint8Array,
  mask: Uint8Array,
  width: number,
  height: number,
): Uint8Array {
  const n = width * height;
  const out = new Uint8Array(n * 4);
  let hasAlpha = false;
  for (let i = 0; i < n; i += 1) if (bgra[i * 4 + 3] !== 0) hasAlpha = true;
  for (let i = 0; i < n; i += 1) {
    const o = i * 4;
    out[o] = bgra[o + 2] ?? 0;
    out[o + 1] = bgra[o + 1] ?? 0;
    out[o + 2] = bgra[o] ?? 0;
    const transparent = (mask[o] ?? 0) !== 0; // AND bit 1 = keep the screen
    out[o + 3] = hasAlpha ? (bgra[o + 3] ?? 0) : transparent ? 0 : 255;
  }
  return out;
}

/**
 * A monochrome cursor from its AND (top) and XOR (bottom) halves: AND 1 XOR 0 is transparent, AND 0 is
 * black or white, AND 1 XOR 1 inverts the screen, which RGBA cannot say: drawn as opaque black.
 */
export function monochromeCursorToRgba(bits: Uint8Array, width: number, height: number): Uint8Array {
  const n = width * height;
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i += 1) {
    const and = (bits[i * 4] ?? 0) !== 0;
    const xor = (bits[(n + i) * 4] ?? 0) !== 0;
    const o = i * 4;
    const white = !and && xor;
    out[o] = out[o + 1] = out[o + 2] = white ? 255 : 0;
    out[o + 3] = and && !xor ? 0 : 255;
  }
  return out;
}
