/**
 * The MIT-SCREEN-SAVER extension from libXss (<X11/extensions/scrnsaver.h>): how long the X server has
 * seen no input, and whether its screen saver is on. Used for "is someone at this session" before a
 * consent prompt (src/helper/consent/x11-user-idle.ts).
 *
 * libXss is loaded on first use, not when this module is evaluated: it is a Recommends of the package,
 * and a helper without it must still start (the idle time is then unknown).
 */
import koffi from 'koffi';
import './xlib.js';

/** `XScreenSaverInfo`: `idle` is milliseconds since the last input the server saw (any client's, XTest too). */
export const XScreenSaverInfoStruct = koffi.struct('XScreenSaverInfo', {
  window: 'unsigned long',
  state: 'int',
  kind: 'int',
  til_or_since: 'unsigned long',
  idle: 'unsigned long',
  eventMask: 'unsigned long',
});

export interface XScreenSaverInfoFields {
  window: number;
  state: number;
  kind: number;
  til_or_since: number;
  idle: number;
  eventMask: number;
}

/** `state`: the screen saver is off, on (blanked or a saver running), or cycling; 3 = disabled. */
export const ScreenSaverOff = 0;
export const ScreenSaverOn = 1;
export const ScreenSaverCycle = 2;
export const ScreenSaverDisabled = 3;

interface Xss {
  XScreenSaverQueryExtension: (dpy: unknown, event: number[], error: number[]) => number;
  XScreenSaverQueryInfo: (dpy: unknown, drawable: number | bigint, info: Record<string, unknown>) => number;
}

let xss: Xss | undefined;

/** The bindings; throws when libXss.so.1 is not installed. */
export function libXss(): Xss {
  if (xss) return xss;
  const lib = koffi.load('libXss.so.1');
  xss = {
    XScreenSaverQueryExtension: lib.func(
      'int XScreenSaverQueryExtension(Display *dpy, _Out_ int *event_base, _Out_ int *error_base)',
    ) as Xss['XScreenSaverQueryExtension'],
    XScreenSaverQueryInfo: lib.func(
      'int XScreenSaverQueryInfo(Display *dpy, unsigned long drawable, _Out_ XScreenSaverInfo *info)',
    ) as Xss['XScreenSaverQueryInfo'],
  };
  return xss;
}
