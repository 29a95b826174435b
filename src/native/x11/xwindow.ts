/**
 * libX11 calls for a small window of the helper's own (the "being viewed" indicator): create it
 * override-redirect, name it, draw text and rectangles with the core protocol, and read its events.
 * Declarations are the C prototypes from <X11/Xlib.h>; struct layouts match it on LP64 (checked by
 * test/native/x11/layouts.test.ts against the headers).
 */
import koffi from 'koffi';
import { libX11 } from './xlib.js';

export const XSetWindowAttributesStruct = koffi.struct('XSetWindowAttributes', {
  background_pixmap: 'unsigned long',
  background_pixel: 'unsigned long',
  border_pixmap: 'unsigned long',
  border_pixel: 'unsigned long',
  bit_gravity: 'int',
  win_gravity: 'int',
  backing_store: 'int',
  backing_planes: 'unsigned long',
  backing_pixel: 'unsigned long',
  save_under: 'int',
  event_mask: 'long',
  do_not_propagate_mask: 'long',
  override_redirect: 'int',
  colormap: 'unsigned long',
  cursor: 'unsigned long',
});

export const XCharStructStruct = koffi.struct('XCharStruct', {
  lbearing: 'short',
  rbearing: 'short',
  width: 'short',
  ascent: 'short',
  descent: 'short',
  attributes: 'unsigned short',
});

export const XFontStructStruct = koffi.struct('XFontStruct', {
  ext_data: 'void *',
  fid: 'unsigned long',
  direction: 'unsigned int',
  min_char_or_byte2: 'unsigned int',
  max_char_or_byte2: 'unsigned int',
  min_byte1: 'unsigned int',
  max_byte1: 'unsigned int',
  all_chars_exist: 'int',
  default_char: 'unsigned int',
  n_properties: 'int',
  properties: 'void *',
  min_bounds: XCharStructStruct,
  max_bounds: XCharStructStruct,
  per_char: 'void *',
  ascent: 'int',
  descent: 'int',
});

export interface XFontStructFields {
  fid: number;
  ascent: number;
  descent: number;
}

/** The start of XButtonEvent / XExposeEvent / XVisibilityEvent inside an XEvent buffer (LP64 offsets). */
export const XEventOffsets = {
  type: 0,
  window: 32,
  /** XButtonEvent */
  buttonX: 64,
  buttonY: 68,
  buttonButton: 84,
  /** XExposeEvent.count */
  exposeCount: 56,
  /** XVisibilityEvent.state */
  visibilityState: 40,
} as const;

// <X11/X.h>
export const InputOutput = 1;
export const CWBackPixel = 1 << 1;
export const CWBorderPixel = 1 << 3;
export const CWOverrideRedirect = 1 << 9;
export const CWEventMask = 1 << 11;
export const ButtonPressMask = 1 << 2;
export const ExposureMask = 1 << 15;
export const VisibilityChangeMask = 1 << 16;
export const ButtonPress = 4;
export const Expose = 12;
export const VisibilityNotify = 15;
export const VisibilityUnobscured = 0;
export const PropModeReplace = 0;

export const XCreateWindow = libX11.func(
  'unsigned long XCreateWindow(Display *display, unsigned long parent, int x, int y, unsigned int width, ' +
    'unsigned int height, unsigned int border_width, int depth, unsigned int class, Visual *visual, ' +
    'unsigned long valuemask, XSetWindowAttributes *attributes)',
);
export const XDestroyWindow = libX11.func('int XDestroyWindow(Display *display, unsigned long w)');
export const XMapRaised = libX11.func('int XMapRaised(Display *display, unsigned long w)');
export const XRaiseWindow = libX11.func('int XRaiseWindow(Display *display, unsigned long w)');
export const XMoveResizeWindow = libX11.func(
  'int XMoveResizeWindow(Display *display, unsigned long w, int x, int y, unsigned int width, unsigned int height)',
);
export const XStoreName = libX11.func(
  'int XStoreName(Display *display, unsigned long w, const char *window_name)',
);
export const XChangeProperty = libX11.func(
  'int XChangeProperty(Display *display, unsigned long w, unsigned long property, unsigned long type, ' +
    'int format, int mode, const uint8_t *data, int nelements)',
);
export const XCreateGC = libX11.func(
  'void *XCreateGC(Display *display, unsigned long d, unsigned long valuemask, void *values)',
);
export const XFreeGC = libX11.func('int XFreeGC(Display *display, void *gc)');
export const XSetForeground = libX11.func(
  'int XSetForeground(Display *display, void *gc, unsigned long foreground)',
);
export const XSetFont = libX11.func('int XSetFont(Display *display, void *gc, unsigned long font)');
export const XFillRectangle = libX11.func(
  'int XFillRectangle(Display *display, unsigned long d, void *gc, int x, int y, unsigned int width, unsigned int height)',
);
export const XDrawRectangle = libX11.func(
  'int XDrawRectangle(Display *display, unsigned long d, void *gc, int x, int y, unsigned int width, unsigned int height)',
);
/** Latin-1 bytes in the core font's encoding (one byte a character). */
export const XDrawString = libX11.func(
  'int XDrawString(Display *display, unsigned long d, void *gc, int x, int y, const uint8_t *string, int length)',
);
export const XLoadQueryFont = libX11.func('XFontStruct *XLoadQueryFont(Display *display, const char *name)');
export const XFreeFont = libX11.func('int XFreeFont(Display *display, XFontStruct *font_struct)');
export const XTextWidth = libX11.func(
  'int XTextWidth(XFontStruct *font_struct, const uint8_t *string, int count)',
);
export const XSelectInput = libX11.func(
  'int XSelectInput(Display *display, unsigned long w, long event_mask)',
);

/** Reads the fields of an `XFontStruct *` the indicator uses. */
export function readFontStruct(font: unknown): XFontStructFields {
  return koffi.decode(font, XFontStructStruct) as XFontStructFields;
}
