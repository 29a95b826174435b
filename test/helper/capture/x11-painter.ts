/**
 * A separate process that animates an X screen for benchmarks: it paints the synthetic pattern, with
 * its frame-number/timestamp stamp, over the whole root window at a fixed rate through MIT-SHM.
 * Run: `tsx test/helper/capture/x11-painter.ts <display> <fps>`; stops on SIGTERM.
 */
import { writeStamp } from '../../../src/helper/capture/frame-stamp.js';
import { monotonicUs } from '../../../src/helper/capture/clock.js';
import { SyntheticPattern } from '../../../src/helper/capture/synthetic-pattern.js';
import { ShmImage } from '../../../src/helper/capture/x11-shm-image.js';
import { openDisplay } from '../../../src/native/x11/display.js';
import { XDisplayHeight, XDisplayWidth, XSync, libX11 } from '../../../src/native/x11/xlib.js';

const XCreateGC = libX11.func(
  'void *XCreateGC(Display *display, unsigned long d, unsigned long valuemask, void *values)',
);

const [display = process.env.DISPLAY, fpsArg = '60'] = process.argv.slice(2);
const fps = Number(fpsArg);
const conn = openDisplay(display);
const width = XDisplayWidth(conn.dpy, conn.screen) as number;
const height = XDisplayHeight(conn.dpy, conn.screen) as number;
const image = new ShmImage(conn, width, height);
const pattern = new SyntheticPattern(width, height, 'full');
const gc = XCreateGC(conn.dpy, conn.root, 0, null) as unknown;

let frame = 0;
let next = performance.now();
let timer: NodeJS.Timeout | undefined;
const paint = (): void => {
  frame += 1;
  pattern.draw(image.data, image.stride, frame);
  writeStamp(image.data, width, image.stride, { frame, timestampUs: monotonicUs() });
  image.put(gc, 0, 0);
  XSync(conn.dpy, 0);
  next += 1000 / fps;
  timer = setTimeout(paint, Math.max(0, next - performance.now()));
};
process.on('SIGTERM', () => {
  clearTimeout(timer);
  image.close();
  conn.close();
  process.exit(0);
});
process.stdout.write('painting\n');
paint();
