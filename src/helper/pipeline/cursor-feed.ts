/**
 * Polls the capturer's cursor and turns it into `cursor` / `cursor_shape` messages relative to the
 * display a viewer watches. The cursor is not in captured frames (X11 and DXGI both leave it out), so
 * the viewer draws it; positions go out at most at the poll rate and only when they change.
 *
 * The poll runs at 30 Hz while the cursor moves and for a second after, then at 10 Hz: a still
 * cursor costs a third of the wake-ups, and the first movement shows up at most 100 ms late.
 */
import type { Capturer, CursorShape } from '../capture/capturer.js';
import type { CursorFeed, CursorMessage } from '../desktop/video-source.js';
import { errorMessage } from '../../errors/error-text.js';
import { type Logger } from '../../log/logger.js';
import { realTimers, type TimerHandle, type Timers } from '../../time/timers.js';

export const CURSOR_POLL_MS = 33;
export const CURSOR_IDLE_POLL_MS = 100;
/** How long after the last change the fast rate holds. */
const IDLE_AFTER_MS = 1000;
/** Larger cursor images do not fit one DataChannel message; the viewer keeps its last shape. */
const MAX_CURSOR_SIZE = 128;

export function createCursorFeed(
  capturer: Capturer,
  currentDisplay: () => number,
  log: Pick<Logger, 'debug' | 'info' | 'warn'>,
  timers: Timers = realTimers,
): CursorFeed {
  const listeners = new Set<(msg: CursorMessage) => void>();
  let lastShape: CursorShape | undefined;
  let lastKey = '';
  let failed = false;
  let source: ReturnType<Capturer['openCursorSource']> | undefined;
  try {
    source = capturer.openCursorSource();
  } catch (err) {
    log.warn({ err: errorMessage(err) }, 'no cursor source; the viewer shows its own cursor');
  }
  const emit = (msg: CursorMessage): void => {
    for (const l of listeners) l(msg);
  };
  let lastChangeAt = Number.NEGATIVE_INFINITY;
  /** The last position, serial and display as read, before mapping them to the display. */
  let lastRaw = '';
  let closed = false;
  let timer: TimerHandle | undefined;
  const schedule = (): void => {
    if (closed) return;
    const idle = timers.now() - lastChangeAt > IDLE_AFTER_MS;
    timer = timers.setTimeout(poll, idle ? CURSOR_IDLE_POLL_MS : CURSOR_POLL_MS);
    timer.unref();
  };
  const poll = (): void => {
    try {
      readOnce();
    } finally {
      schedule();
    }
  };
  const readOnce = (): void => {
    if (!source || listeners.size === 0) return;
    try {
      const c = source.read();
      if (c.shape && c.shape.width <= MAX_CURSOR_SIZE && c.shape.height <= MAX_CURSOR_SIZE) {
        lastShape = c.shape;
        emit(shapeMessage(c.shape));
      }
      // Asking for the displays is a round trip or two on X11 (RandR): only when something moved.
      const raw = `${c.x},${c.y},${c.serial},${currentDisplay()}`;
      if (raw === lastRaw) return;
      lastRaw = raw;
      const d = capturer.displays()[currentDisplay()];
      if (!d) return;
      const x = c.x - d.x;
      const y = c.y - d.y;
      const visible = x >= 0 && y >= 0 && x < d.width && y < d.height;
      const key = `${x},${y},${visible},${c.serial}`;
      if (key !== lastKey) {
        lastKey = key;
        lastChangeAt = timers.now();
        emit({ type: 'cursor', x, y, visible, serial: c.serial >>> 0 });
      }
      failed = false;
    } catch (err) {
      if (!failed) log.warn({ err: errorMessage(err) }, 'cursor read failed');
      failed = true;
    }
  };
  schedule();
  return {
    onCursor(cb) {
      listeners.add(cb);
      if (lastShape) cb(shapeMessage(lastShape));
      lastKey = '';
      lastRaw = '';
      return () => listeners.delete(cb);
    },
    close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      timers.clearTimeout(timer);
      // On X11 the source is a connection of its own: one left open per viewer would use up the
      // server's clients (~256), after which nothing in the session can open a window.
      source?.close();
      source = undefined;
    },
  };
}

function shapeMessage(s: CursorShape): CursorMessage {
  return {
    type: 'cursor_shape',
    serial: s.serial >>> 0,
    width: s.width,
    height: s.height,
    hotX: Math.min(s.hotX, s.width - 1),
    hotY: Math.min(s.hotY, s.height - 1),
    rgba: Buffer.from(s.rgba.buffer, s.rgba.byteOffset, s.rgba.byteLength).toString('base64'),
  };
}
