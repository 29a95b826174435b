/**
 * The DAMAGE extension from libXdamage (<X11/extensions/Xdamage.h>): the server tells which parts of
 * a drawable changed, so an unchanged screen costs one small round trip instead of a full grab.
 */
import koffi from 'koffi';
import './xlib.js';

const libXdamage = koffi.load('libXdamage.so.1');

export const XDamageReportNonEmpty = 3;
export const XDamageNotify = 0;

export const XDamageQueryExtension = libXdamage.func(
  'int XDamageQueryExtension(Display *dpy, _Out_ int *event_base_return, _Out_ int *error_base_return)',
);
export const XDamageCreate = libXdamage.func(
  'unsigned long XDamageCreate(Display *dpy, unsigned long drawable, int level)',
);
export const XDamageDestroy = libXdamage.func('void XDamageDestroy(Display *dpy, unsigned long damage)');
/** Moves the accumulated damage into `parts` (a region) and clears it, when `repair` is None (0). */
export const XDamageSubtract = libXdamage.func(
  'void XDamageSubtract(Display *dpy, unsigned long damage, unsigned long repair, unsigned long parts)',
);
