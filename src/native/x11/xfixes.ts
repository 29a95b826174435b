/**
 * The XFIXES extension from libXfixes (<X11/extensions/Xfixes.h>): server-side regions (to read the
 * damaged rectangles) and the cursor image, which X never draws into captured pixels.
 */
import koffi from 'koffi';
import './xlib.js';

const libXfixes = koffi.load('libXfixes.so.3');

/**
 * `XFixesCursorImage`. `pixels` points to width×height `unsigned long`s: 8 bytes each on LP64, holding
 * one premultiplied ARGB32 value in the low 32 bits.
 */
export const XFixesCursorImageStruct = koffi.struct('XFixesCursorImage', {
  x: 'short',
  y: 'short',
  width: 'unsigned short',
  height: 'unsigned short',
  xhot: 'unsigned short',
  yhot: 'unsigned short',
  cursor_serial: 'unsigned long',
  pixels: 'void *',
  atom: 'unsigned long',
  name: 'const char *',
});

export interface XFixesCursorImageFields {
  x: number;
  y: number;
  width: number;
  height: number;
  xhot: number;
  yhot: number;
  cursor_serial: number;
  pixels: unknown;
  atom: number;
  name: string | null;
}

export const XFixesQueryExtension = libXfixes.func(
  'int XFixesQueryExtension(Display *dpy, _Out_ int *event_base_return, _Out_ int *error_base_return)',
);
export const XFixesCreateRegion = libXfixes.func(
  'unsigned long XFixesCreateRegion(Display *dpy, XRectangle *rectangles, int nrectangles)',
);
export const XFixesDestroyRegion = libXfixes.func(
  'void XFixesDestroyRegion(Display *dpy, unsigned long region)',
);
export const XFixesFetchRegion = libXfixes.func(
  'XRectangle *XFixesFetchRegion(Display *dpy, unsigned long region, _Out_ int *nrectanglesRet)',
);
export const XFixesGetCursorImage = libXfixes.func('XFixesCursorImage *XFixesGetCursorImage(Display *dpy)');
