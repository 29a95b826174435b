/**
 * RandR monitors from libXrandr (<X11/extensions/Xrandr.h>, RandR ≥ 1.5): the list of monitors a
 * desktop shows, each a rectangle of the root window. Xinerama is not used: under Xvfb its heads all
 * report origin 0,0, while RandR monitors carry real positions.
 */
import koffi from 'koffi';
import './xlib.js';

const libXrandr = koffi.load('libXrandr.so.2');

export const XRRMonitorInfoStruct = koffi.struct('XRRMonitorInfo', {
  name: 'unsigned long',
  primary: 'int',
  automatic: 'int',
  noutput: 'int',
  x: 'int',
  y: 'int',
  width: 'int',
  height: 'int',
  mwidth: 'int',
  mheight: 'int',
  outputs: 'void *',
});

export interface XRRMonitorInfoFields {
  name: number;
  primary: number;
  automatic: number;
  noutput: number;
  x: number;
  y: number;
  width: number;
  height: number;
  mwidth: number;
  mheight: number;
}

export const XRRQueryVersion = libXrandr.func(
  'int XRRQueryVersion(Display *dpy, _Out_ int *major_version_return, _Out_ int *minor_version_return)',
);
export const XRRGetMonitors = libXrandr.func(
  'XRRMonitorInfo *XRRGetMonitors(Display *dpy, unsigned long window, int get_active, _Out_ int *nmonitors)',
);
export const XRRFreeMonitors = libXrandr.func('void XRRFreeMonitors(XRRMonitorInfo *monitors)');
export const XRRAllocateMonitor = libXrandr.func(
  'XRRMonitorInfo *XRRAllocateMonitor(Display *dpy, int noutput)',
);
/** Defines (or replaces) a monitor; tests use it to give one Xvfb screen two monitors. */
export const XRRSetMonitor = libXrandr.func(
  'void XRRSetMonitor(Display *dpy, unsigned long window, XRRMonitorInfo *monitor)',
);
