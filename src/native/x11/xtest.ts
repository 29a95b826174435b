/**
 * XTEST (libXtst, <X11/extensions/XTest.h>) for input injection, the core keyboard-mapping calls it
 * needs (<X11/Xlib.h>), and XFIXES selection-owner notification for the clipboard watcher
 * (<X11/extensions/Xfixes.h>). Declarations are the C prototypes; KeyCode is `unsigned char`, KeySym
 * and Atom are `unsigned long`.
 */
import koffi from 'koffi';
import { libX11, XFree } from './xlib.js';

const libXtst = koffi.load('libXtst.so.6');
const libXfixes = koffi.load('libXfixes.so.3');

export const XTestQueryExtension = libXtst.func(
  'int XTestQueryExtension(Display *display, _Out_ int *event_base, _Out_ int *error_base, _Out_ int *major, _Out_ int *minor)',
);
/** screen_number -1 moves on the pointer's current screen; with Xinerama the root spans all monitors. */
export const XTestFakeMotionEvent = libXtst.func(
  'int XTestFakeMotionEvent(Display *display, int screen_number, int x, int y, unsigned long delay)',
);
export const XTestFakeButtonEvent = libXtst.func(
  'int XTestFakeButtonEvent(Display *display, unsigned int button, int is_press, unsigned long delay)',
);
export const XTestFakeKeyEvent = libXtst.func(
  'int XTestFakeKeyEvent(Display *display, unsigned int keycode, int is_press, unsigned long delay)',
);

export const XDisplayKeycodes = libX11.func(
  'int XDisplayKeycodes(Display *display, _Out_ int *min_keycodes_return, _Out_ int *max_keycodes_return)',
);
/** Returns `KeySym *` (free with XFree): keycode_count × keysyms_per_keycode entries. */
export const XGetKeyboardMapping = libX11.func(
  'void *XGetKeyboardMapping(Display *display, uint8_t first_keycode, int keycode_count, _Out_ int *keysyms_per_keycode_return)',
);
export const XChangeKeyboardMapping = libX11.func(
  'int XChangeKeyboardMapping(Display *display, int first_keycode, int keysyms_per_keycode, unsigned long *keysyms, int num_codes)',
);
/** Fills a 32-byte bit vector: bit k set when keycode k is down. */
export const XQueryKeymap = libX11.func('int XQueryKeymap(Display *display, _Out_ uint8_t *keys_return)');
export const XGetSelectionOwner = libX11.func(
  'unsigned long XGetSelectionOwner(Display *display, unsigned long selection)',
);
export const XDefaultRootWindow = libX11.func('unsigned long XDefaultRootWindow(Display *display)');

export const XFixesQueryExtension = libXfixes.func(
  'int XFixesQueryExtension(Display *display, _Out_ int *event_base_return, _Out_ int *error_base_return)',
);
export const XFixesSelectSelectionInput = libXfixes.func(
  'void XFixesSelectSelectionInput(Display *display, unsigned long window, unsigned long selection, unsigned long event_mask)',
);
export const XFixesSetSelectionOwnerNotifyMask = 1;
/** XFixesSelectionNotify, added to the extension's event base. */
export const XFixesSelectionNotify = 0;

/** Reads `count` KeySyms from a `KeySym *` Xlib returned, and frees it. */
export function takeKeysyms(ptr: unknown, count: number): number[] {
  if (ptr == null) return [];
  try {
    // koffi hands 64-bit integers back as a BigUint64Array; KeySyms fit in 29 bits.
    return Array.from(koffi.decode(ptr, 'unsigned long', count) as ArrayLike<bigint | number>, Number);
  } finally {
    XFree(ptr);
  }
}
