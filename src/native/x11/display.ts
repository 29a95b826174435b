/**
 * Opening an X display, shared by the X11 capture code (and usable by input injection).
 *
 * Xlib's default error handler prints and calls exit(): one stale window id would kill the helper. The
 * handler installed here records the error instead; callers that need to know call `XSync` and then
 * `takeXError()`. The handler is process-wide (Xlib has one), installed once.
 */
import koffi from 'koffi';
import {
  XCloseDisplay,
  XDefaultScreen,
  XErrorEventStruct,
  XErrorHandlerProto,
  XGetErrorText,
  XOpenDisplay,
  XRootWindow,
  XSetErrorHandler,
  type XID,
  type XPointer,
} from './xlib.js';
import { PortholeError } from '../../errors/porthole-error.js';

export interface XErrorRecord {
  code: number;
  requestCode: number;
  minorCode: number;
  text: string;
}

export interface XDisplayConnection {
  /** The `Display *`. */
  readonly dpy: XPointer;
  readonly name: string;
  readonly screen: number;
  readonly root: XID;
  close(): void;
}

let lastError: XErrorRecord | undefined;
let handlerInstalled = false;

function installErrorHandler(): void {
  if (handlerInstalled) return;
  handlerInstalled = true;
  const handler = koffi.register((dpy: XPointer, event: XPointer): number => {
    const e = koffi.decode(event, XErrorEventStruct) as {
      error_code: number;
      request_code: number;
      minor_code: number;
    };
    const text = Buffer.alloc(256);
    XGetErrorText(dpy, e.error_code, text, text.length);
    lastError = {
      code: e.error_code,
      requestCode: e.request_code,
      minorCode: e.minor_code,
      text: text.toString('latin1', 0, Math.max(0, text.indexOf(0))),
    };
    return 0;
  }, koffi.pointer(XErrorHandlerProto));
  XSetErrorHandler(handler);
}

/** Returns and clears the last X protocol error the handler recorded. */
export function takeXError(): XErrorRecord | undefined {
  const e = lastError;
  lastError = undefined;
  return e;
}

/** The X display cannot be reached or used; `call` names the Xlib call that failed. */
export class XDisplayError extends PortholeError<'display_unavailable'> {
  override name = 'XDisplayError';
  constructor(
    readonly call: string,
    message: string,
  ) {
    super('display_unavailable', `${call}: ${message}`);
  }
}

/** Opens `name` (default: `$DISPLAY`); throws naming the display when it cannot be reached. */
export function openDisplay(name: string | undefined = process.env.DISPLAY): XDisplayConnection {
  installErrorHandler();
  const dpy = XOpenDisplay(name ?? null) as XPointer;
  if (dpy == null) throw new XDisplayError('XOpenDisplay', `cannot open display "${name ?? ''}"`);
  const screen = XDefaultScreen(dpy) as number;
  let open = true;
  return {
    dpy,
    name: name ?? '',
    screen,
    root: XRootWindow(dpy, screen) as number,
    close() {
      if (!open) return;
      open = false;
      XCloseDisplay(dpy);
    },
  };
}
