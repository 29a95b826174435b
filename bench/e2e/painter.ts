/**
 * The screen under test: a separate X client that repaints the whole root window 60 times a second
 * through MIT-SHM, with the frame number and the wall-clock time of the paint stamped in the top-left
 * corner (frame-stamp.ts). Commands on stdin, one per line: `flip`, `scroll`, `static` (paint one
 * last frame and stop). Answers `ok <command>` on stdout once the command is in effect.
 * Run: `node --import tsx bench/e2e/painter.ts <display> [fps]`; stops on SIGTERM or stdin EOF.
 */
import { createInterface } from 'node:readline';
import { writeStamp } from '../../src/helper/capture/frame-stamp.js';
import { ShmImage } from '../../src/helper/capture/x11-shm-image.js';
import { openDisplay } from '../../src/native/x11/display.js';
import { XDisplayHeight, XDisplayWidth, XSync, libX11 } from '../../src/native/x11/xlib.js';
import { stampWallUs } from './measure.js';
import { fillFlip, fillScroll, textPage, type Workload } from './workloads.js';

const XCreateGC = libX11.func(
  'void *XCreateGC(Display *display, unsigned long d, unsigned long valuemask, void *values)',
);

const [display = process.env.DISPLAY, fpsArg = '60'] = process.argv.slice(2);
const fps = Number(fpsArg);
const conn = openDisplay(display);
const width = XDisplayWidth(conn.dpy, conn.screen) as number;
const height = XDisplayHeight(conn.dpy, conn.screen) as number;
const image = new ShmImage(conn, width, height);
const page = textPage(width, height, image.stride);
const gc = XCreateGC(conn.dpy, conn.root, 0, null) as unknown;

let workload: Workload = 'static';
let frame = 0;
let next = performance.now();
let timer: NodeJS.Timeout | undefined;

function paintOnce(): void {
  frame += 1;
  if (workload === 'scroll') fillScroll(image.data, page, image.stride, height, frame);
  else fillFlip(image.data, image.stride, height, frame);
  writeStamp(image.data, width, image.stride, {
    frame,
    timestampUs: stampWallUs(performance.timeOrigin + performance.now()),
  });
  image.put(gc, 0, 0);
  XSync(conn.dpy, 0);
}

function tick(): void {
  timer = undefined;
  if (workload === 'static') return;
  paintOnce();
  next += 1000 / fps;
  const now = performance.now();
  if (next < now - 1000 / fps) next = now; // fell behind: do not burst to catch up
  timer = setTimeout(tick, Math.max(0, next - now));
}

function stop(): void {
  if (timer) clearTimeout(timer);
  image.close();
  conn.close();
  process.exit(0);
}

process.on('SIGTERM', stop);
createInterface({ input: process.stdin })
  .on('line', (line) => {
    const cmd = line.trim();
    if (cmd !== 'flip' && cmd !== 'scroll' && cmd !== 'static') return;
    workload = cmd;
    if (cmd === 'static') {
      if (timer) clearTimeout(timer);
      timer = undefined;
      paintOnce();
    } else if (!timer) {
      next = performance.now();
      tick();
    }
    process.stdout.write(`ok ${cmd}\n`);
  })
  .on('close', stop);
process.stdout.write('ready\n');
