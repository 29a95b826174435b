/**
 * One MIT-SHM image of a fixed size: the X server writes a rectangle of the root window straight into
 * a shared segment that this process sees as a Uint8Array, with no copy on our side.
 *
 * The segment is marked for removal (IPC_RMID) as soon as both sides have attached it, so the kernel
 * frees it when the last of them detaches or dies: a crashed helper leaks nothing.
 */
import koffi from 'koffi';
import {
  IPC_CREAT,
  IPC_PRIVATE,
  IPC_RMID,
  shmat,
  shmatFailed,
  shmctl,
  shmdt,
  shmget,
} from '../../native/x11/libc-shm.js';
import {
  XShmAttach,
  XShmCreateImage,
  XShmDetach,
  XShmGetImage,
  XShmPutImage,
  XShmSegmentInfoStruct,
} from '../../native/x11/xext-shm.js';
import {
  AllPlanes,
  XDefaultDepth,
  XDefaultVisual,
  XDestroyImage,
  XSync,
  ZPixmap,
  readXImage,
  type XPointer,
} from '../../native/x11/xlib.js';
import { takeXError, type XDisplayConnection } from '../../native/x11/display.js';
import { CaptureError } from './capturer.js';

export class ShmImage {
  readonly data: Uint8Array;
  readonly stride: number;
  private readonly image: XPointer;
  private readonly shminfo: XPointer;
  private readonly addr: XPointer;
  private closed = false;

  constructor(
    private readonly conn: XDisplayConnection,
    readonly width: number,
    readonly height: number,
  ) {
    const { dpy, screen } = conn;
    const depth = XDefaultDepth(dpy, screen) as number;
    if (depth !== 24 && depth !== 32)
      throw new CaptureError('unsupported', `X11 capture needs depth 24 or 32, screen has ${depth}`);
    // Native memory: Xlib keeps this pointer in the image and reads it again at detach.
    this.shminfo = koffi.alloc(XShmSegmentInfoStruct, 1);
    const image = XShmCreateImage(
      dpy,
      XDefaultVisual(dpy, screen),
      depth,
      ZPixmap,
      null,
      this.shminfo,
      width,
      height,
    );
    if (image == null) throw new CaptureError('failed', 'XShmCreateImage failed');
    const fields = readXImage(image);
    if (fields.bits_per_pixel !== 32) {
      XDestroyImage(image);
      throw new CaptureError(
        'unsupported',
        `X11 capture needs 32 bits per pixel, the image has ${fields.bits_per_pixel}`,
      );
    }
    this.image = image;
    this.stride = fields.bytes_per_line;
    const size = this.stride * height;

    const shmid = shmget(IPC_PRIVATE, size, IPC_CREAT | 0o600) as number;
    if (shmid < 0) throw new CaptureError('failed', `shmget(${size}) failed, errno ${koffi.errno()}`);
    const addr = shmat(shmid, null, 0) as XPointer;
    if (shmatFailed(addr)) {
      shmctl(shmid, IPC_RMID, null);
      throw new CaptureError('failed', `shmat failed, errno ${koffi.errno()}`);
    }
    this.addr = addr;
    koffi.encode(this.shminfo, XShmSegmentInfoStruct, { shmseg: 0, shmid, shmaddr: addr, readOnly: 0 });
    // XImage.data (offset 16) must point at the segment for XShmGetImage to fill it.
    koffi.encode(image, 16, 'void *', addr);

    const attached = XShmAttach(dpy, this.shminfo) as number;
    XSync(dpy, 0);
    shmctl(shmid, IPC_RMID, null);
    const err = takeXError();
    if (!attached || err) {
      shmdt(addr);
      XDestroyImage(image);
      throw new CaptureError(
        'unsupported',
        `XShmAttach failed${err ? `: ${err.text}` : ''} (a remote X server cannot share memory)`,
      );
    }
    this.data = new Uint8Array(koffi.view(addr, size));
  }

  /** Fills `data` with the root window's pixels at (x, y). Returns false on an X error. */
  grab(x: number, y: number): boolean {
    if (this.closed) throw new CaptureError('closed', 'grab on a closed ShmImage');
    return (XShmGetImage(this.conn.dpy, this.conn.root, this.image, x, y, AllPlanes) as number) !== 0;
  }

  /** Draws `data` onto the root window at (x, y) with graphics context `gc` (test and bench painters). */
  put(gc: XPointer, x: number, y: number): void {
    if (this.closed) throw new CaptureError('closed', 'put on a closed ShmImage');
    XShmPutImage(this.conn.dpy, this.conn.root, gc, this.image, 0, 0, x, y, this.width, this.height, 0);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    XShmDetach(this.conn.dpy, this.shminfo);
    XSync(this.conn.dpy, 0);
    // MIT-SHM's destroy hook frees the XImage struct only, never the segment it points to.
    XDestroyImage(this.image);
    shmdt(this.addr);
    koffi.free(this.shminfo);
  }
}
