/**
 * libX11: the core calls the capture side needs (open a display, find the root window, read the event
 * queue, fetch an image) and the error handler that keeps a protocol error from killing the process.
 * Declarations are the C prototypes from <X11/Xlib.h>; struct layouts match it on LP64 (checked by
 * test/native/x11/layouts.test.ts against the headers).
 */
import koffi from 'koffi';

export const libX11 = koffi.load('libX11.so.6');

/** `Display *`, `Visual *` and other pointers Xlib hands out; only ever passed back to Xlib. */
export type XPointer = unknown;
/** An XID (Window, Drawable, Pixmap, Damage, XserverRegion…): `unsigned long` on the wire. */
export type XID = number;

export const XDisplayType = koffi.opaque('Display');
export const XVisualType = koffi.opaque('Visual');

export const XImageStruct = koffi.struct('XImage', {
  width: 'int',
  height: 'int',
  xoffset: 'int',
  format: 'int',
  data: 'void *',
  byte_order: 'int',
  bitmap_unit: 'int',
  bitmap_bit_order: 'int',
  bitmap_pad: 'int',
  depth: 'int',
  bytes_per_line: 'int',
  bits_per_pixel: 'int',
  red_mask: 'unsigned long',
  green_mask: 'unsigned long',
  blue_mask: 'unsigned long',
  obdata: 'void *',
  f: koffi.array('void *', 6),
});

export interface XImageFields {
  width: number;
  height: number;
  data: XPointer;
  depth: number;
  bytes_per_line: number;
  bits_per_pixel: number;
  byte_order: number;
  red_mask: number;
  green_mask: number;
  blue_mask: number;
}

export const XRectangleStruct = koffi.struct('XRectangle', {
  x: 'short',
  y: 'short',
  width: 'unsigned short',
  height: 'unsigned short',
});

export interface XRectangle {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const XErrorEventStruct = koffi.struct('XErrorEvent', {
  type: 'int',
  display: 'void *',
  resourceid: 'unsigned long',
  serial: 'unsigned long',
  error_code: 'uchar',
  request_code: 'uchar',
  minor_code: 'uchar',
});

/** sizeof(XEvent) on LP64: a union padded to 24 longs. */
export const XEVENT_SIZE = 192;
export const ZPixmap = 2;
export const LSBFirst = 0;
/** `AllPlanes`: ~0UL. */
export const AllPlanes = 0xffff_ffff_ffff_ffffn;

export const XOpenDisplay = libX11.func('Display *XOpenDisplay(const char *display_name)');
export const XCloseDisplay = libX11.func('int XCloseDisplay(Display *display)');
export const XDefaultScreen = libX11.func('int XDefaultScreen(Display *display)');
export const XRootWindow = libX11.func('unsigned long XRootWindow(Display *display, int screen)');
export const XDefaultVisual = libX11.func('Visual *XDefaultVisual(Display *display, int screen)');
export const XDefaultDepth = libX11.func('int XDefaultDepth(Display *display, int screen)');
export const XDisplayWidth = libX11.func('int XDisplayWidth(Display *display, int screen)');
export const XDisplayHeight = libX11.func('int XDisplayHeight(Display *display, int screen)');
export const XDisplayString = libX11.func('const char *XDisplayString(Display *display)');
export const XSync = libX11.func('int XSync(Display *display, int discard)');
export const XFlush = libX11.func('int XFlush(Display *display)');
export const XPending = libX11.func('int XPending(Display *display)');
export const XConnectionNumber = libX11.func('int XConnectionNumber(Display *display)');
/** `XEventsQueued` mode: count what Xlib already read, without touching the socket. */
export const QueuedAlready = 0;
export const XEventsQueued = libX11.func('int XEventsQueued(Display *display, int mode)');
export const XNextEvent = libX11.func('int XNextEvent(Display *display, _Out_ uint8_t *event_return)');
export const XFree = libX11.func('int XFree(void *data)');
export const XDestroyImage = libX11.func('int XDestroyImage(XImage *ximage)');
export const XInternAtom = libX11.func(
  'unsigned long XInternAtom(Display *display, const char *atom_name, int only_if_exists)',
);
export const XGetAtomName = libX11.func(
  // void *, not char *: koffi would copy a char * into a JS string and lose the pointer XFree needs.
  'void *XGetAtomName(Display *display, unsigned long atom)',
);
export const XGetErrorText = libX11.func(
  'int XGetErrorText(Display *display, int code, _Out_ char *buffer_return, int length)',
);
export const XQueryPointer = libX11.func(
  'int XQueryPointer(Display *display, unsigned long w, _Out_ unsigned long *root_return, ' +
    '_Out_ unsigned long *child_return, _Out_ int *root_x_return, _Out_ int *root_y_return, ' +
    '_Out_ int *win_x_return, _Out_ int *win_y_return, _Out_ unsigned int *mask_return)',
);

const XErrorHandlerProto = koffi.proto('int XErrorHandler(Display *display, XErrorEvent *event)');
export const XSetErrorHandler = libX11.func('void *XSetErrorHandler(XErrorHandler *handler)');
export { XErrorHandlerProto };

/** Reads the `XImage` an Xlib call returned. */
export function readXImage(image: XPointer): XImageFields {
  return koffi.decode(image, XImageStruct) as XImageFields;
}

/** Reads a name Xlib returned as `char *` and frees it. */
export function takeXString(ptr: XPointer): string {
  if (ptr == null) return '';
  try {
    return koffi.decode(ptr, 'char', -1) as string;
  } finally {
    XFree(ptr);
  }
}
