/**
 * gdi32.dll: the GDI calls of the fallback capturer (BitBlt from the screen DC into a DIB section) and
 * of the cursor shape (GetDIBits of the cursor's bitmaps). Prototypes are those of <wingdi.h>.
 */
import koffi from 'koffi';
import { BITMAPINFOHEADER } from './capture-structs.js';
import { lazyLibrary } from './library.js';
import './user32.js'; // the handle type names (HDC, HBITMAP, HGDIOBJ…)

export const BITMAP = koffi.struct('BITMAP', {
  bmType: 'LONG',
  bmWidth: 'LONG',
  bmHeight: 'LONG',
  bmWidthBytes: 'LONG',
  bmPlanes: 'WORD',
  bmBitsPixel: 'WORD',
  bmBits: 'LPVOID',
});

export interface BitmapInfoHeaderFields {
  biSize: number;
  biWidth: number;
  biHeight: number;
  biPlanes: number;
  biBitCount: number;
  biCompression: number;
  biSizeImage: number;
  biXPelsPerMeter: number;
  biYPelsPerMeter: number;
  biClrUsed: number;
  biClrImportant: number;
}

export const BI_RGB = 0;
export const DIB_RGB_COLORS = 0;
/** BitBlt raster operations: a plain copy, and CAPTUREBLT so layered (translucent) windows are included. */
export const SRCCOPY = 0x00cc0020;
export const CAPTUREBLT = 0x40000000;

/** A 32-bit, top-down (negative height) BGRA header: rows in reading order, stride = width × 4. */
export function topDownBgraHeader(width: number, height: number): BitmapInfoHeaderFields {
  return {
    biSize: koffi.sizeof(BITMAPINFOHEADER),
    biWidth: width,
    biHeight: -height,
    biPlanes: 1,
    biBitCount: 32,
    biCompression: BI_RGB,
    biSizeImage: 0,
    biXPelsPerMeter: 0,
    biYPelsPerMeter: 0,
    biClrUsed: 0,
    biClrImportant: 0,
  };
}

// BITMAPINFO is BITMAPINFOHEADER followed by a colour table that 32-bit BI_RGB bitmaps do not use, so
// the prototypes take the header alone.
export const gdi32 = lazyLibrary('gdi32.dll', (lib) => ({
  CreateCompatibleDC: lib.func('HDC __stdcall CreateCompatibleDC(HDC hdc)'),
  DeleteDC: lib.func('BOOL __stdcall DeleteDC(HDC hdc)'),
  CreateDIBSection: lib.func(
    'HBITMAP __stdcall CreateDIBSection(HDC hdc, const BITMAPINFOHEADER *pbmi, UINT usage, _Out_ void **ppvBits, HANDLE hSection, DWORD offset)',
  ),
  SelectObject: lib.func('HGDIOBJ __stdcall SelectObject(HDC hdc, HGDIOBJ h)'),
  DeleteObject: lib.func('BOOL __stdcall DeleteObject(HGDIOBJ ho)'),
  BitBlt: lib.func(
    'BOOL __stdcall BitBlt(HDC hdc, int x, int y, int cx, int cy, HDC hdcSrc, int x1, int y1, DWORD rop)',
  ),
  GdiFlush: lib.func('BOOL __stdcall GdiFlush()'),
  GetObjectW: lib.func('int __stdcall GetObjectW(HANDLE h, int c, _Out_ BITMAP *pv)'),
  GetDIBits: lib.func(
    'int __stdcall GetDIBits(HDC hdc, HBITMAP hbm, UINT start, UINT cLines, _Out_ uint8_t *lpvBits, _Inout_ BITMAPINFOHEADER *lpbmi, UINT usage)',
  ),
  CreateSolidBrush: lib.func('HBRUSH __stdcall CreateSolidBrush(DWORD color)'),
  // HDC as uintptr_t: these take the DC a WM_CTLCOLOR* message carries in its WPARAM, an integer there.
  SetTextColor: lib.func('DWORD __stdcall SetTextColor(uintptr_t hdc, DWORD color)'),
  SetBkMode: lib.func('int __stdcall SetBkMode(uintptr_t hdc, int mode)'),
}));

/** SetBkMode: text is drawn without filling its cell (wingdi.h). */
export const TRANSPARENT = 1;
