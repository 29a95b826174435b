/**
 * The MIT-SHM extension from libXext (<X11/extensions/XShm.h>).
 */
import koffi from 'koffi';
import './xlib.js';

const libXext = koffi.load('libXext.so.6');

/** `XShmSegmentInfo`; Xlib keeps a pointer to it inside the image, so it must live in native memory. */
export const XShmSegmentInfoStruct = koffi.struct('XShmSegmentInfo', {
  shmseg: 'unsigned long',
  shmid: 'int',
  shmaddr: 'void *',
  readOnly: 'int',
});

export const XShmQueryExtension = libXext.func('int XShmQueryExtension(Display *dpy)');
export const XShmCreateImage = libXext.func(
  'XImage *XShmCreateImage(Display *dpy, Visual *visual, unsigned int depth, int format, void *data, ' +
    'XShmSegmentInfo *shminfo, unsigned int width, unsigned int height)',
);
export const XShmAttach = libXext.func('int XShmAttach(Display *dpy, XShmSegmentInfo *shminfo)');
export const XShmDetach = libXext.func('int XShmDetach(Display *dpy, XShmSegmentInfo *shminfo)');
export const XShmGetImage = libXext.func(
  'int XShmGetImage(Display *dpy, unsigned long d, XImage *image, int x, int y, unsigned long plane_mask)',
);
export const XShmPutImage = libXext.func(
  'int XShmPutImage(Display *dpy, unsigned long d, void *gc, XImage *image, int src_x, int src_y, ' +
    'int dst_x, int dst_y, unsigned int src_width, unsigned int src_height, int send_event)',
);
