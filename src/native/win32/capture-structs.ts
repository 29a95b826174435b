/**
 * Capture structures for the helper's Windows capturer: GDI's BITMAPINFOHEADER (GetDIBits of a BitBlt
 * copy) and DXGI desktop duplication's DXGI_OUTDUPL_FRAME_INFO, used by gdi32.ts, dxgi.ts and the
 * capturers in src/helper/capture/win32-*.ts. ABI-checked against the Windows headers
 * (test/win32/abi.test.ts). Desktop duplication cannot run under Wine (DuplicateOutput returns
 * E_NOTIMPL), see design/WINDOWS.md.
 */
import koffi from 'koffi';
import './library.js';

export const BITMAPINFOHEADER = koffi.struct('BITMAPINFOHEADER', {
  biSize: 'DWORD',
  biWidth: 'LONG',
  biHeight: 'LONG',
  biPlanes: 'WORD',
  biBitCount: 'WORD',
  biCompression: 'DWORD',
  biSizeImage: 'DWORD',
  biXPelsPerMeter: 'LONG',
  biYPelsPerMeter: 'LONG',
  biClrUsed: 'DWORD',
  biClrImportant: 'DWORD',
});

export const POINT = koffi.struct('POINT', { x: 'LONG', y: 'LONG' });

export const DXGI_OUTDUPL_POINTER_POSITION = koffi.struct('DXGI_OUTDUPL_POINTER_POSITION', {
  Position: POINT,
  Visible: 'BOOL',
});

export const DXGI_OUTDUPL_FRAME_INFO = koffi.struct('DXGI_OUTDUPL_FRAME_INFO', {
  LastPresentTime: 'LARGE_INTEGER',
  LastMouseUpdateTime: 'LARGE_INTEGER',
  AccumulatedFrames: 'UINT',
  RectsCoalesced: 'BOOL',
  ProtectedContentMaskedOut: 'BOOL',
  PointerPosition: DXGI_OUTDUPL_POINTER_POSITION,
  TotalMetadataBufferSize: 'UINT',
  PointerShapeBufferSize: 'UINT',
});
