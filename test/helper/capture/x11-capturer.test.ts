import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapturedFrame, Capturer, FrameSource } from '../../../src/helper/capture/capturer.js';
import { createCapturer } from '../../../src/helper/capture/index.js';
import { startXvfb, type XvfbHandle } from '../../fixtures/xvfb.js';
import { defineMonitors, fillRect } from './x11-draw.js';

/** The B, G, R bytes of the pixel at (x, y). */
function pixel(frame: { data: Uint8Array; stride: number }, x: number, y: number): number[] {
  const o = y * frame.stride + x * 4;
  return [frame.data[o] ?? -1, frame.data[o + 1] ?? -1, frame.data[o + 2] ?? -1];
}

/**
 * The next grab that reports a change. The server flushes the DamageNotify to our connection when it
 * next goes idle, a moment after the drawing client's request returns, so a change shows up within a
 * tick or two, not necessarily at the very next grab.
 */
async function nextChange(source: FrameSource, timeoutMs = 1000): Promise<CapturedFrame> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const frame = source.grab();
    if (frame.changed || performance.now() > end) return frame;
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('X11 capturer on one screen', () => {
  let xvfb: XvfbHandle;
  let capturer: Capturer;
  beforeAll(async () => {
    xvfb = await startXvfb({ screens: [{ w: 640, h: 480 }] });
    capturer = await createCapturer({ kind: 'x11', display: xvfb.display });
  });
  afterAll(async () => {
    capturer?.close();
    await xvfb?.stop();
  });

  it('reports the screen as one primary display', () => {
    expect(capturer.displays()).toEqual([
      { index: 0, name: expect.any(String) as string, x: 0, y: 0, width: 640, height: 480, primary: true },
    ]);
  });

  it('reads the colour xsetroot painted, as BGRX', async () => {
    const source = capturer.openFrameSource(0);
    try {
      source.grab();
      execFileSync('xsetroot', ['-solid', '#123456'], { env: xvfb.env });
      const frame = await nextChange(source);
      expect(frame.changed).toBe(true);
      expect(frame).toMatchObject({ width: 640, height: 480, format: 'BGRX' });
      expect(frame.stride).toBeGreaterThanOrEqual(640 * 4);
      expect(pixel(frame, 0, 0)).toEqual([0x56, 0x34, 0x12]);
      expect(pixel(frame, 639, 479)).toEqual([0x56, 0x34, 0x12]);
    } finally {
      source.close();
    }
  });

  it('reports an unchanged screen as unchanged, and only the damaged rectangle after a draw', async () => {
    const source = capturer.openFrameSource(0);
    try {
      expect(source.grab().changed).toBe(true); // the first grab always carries the picture
      expect(source.grab().changed).toBe(false);
      expect(source.grab().changed).toBe(false);
      fillRect(xvfb.display, { x: 100, y: 50, width: 20, height: 10 }, 0xff0000);
      const frame = await nextChange(source);
      expect(frame.changed).toBe(true);
      expect(frame.dirty).toEqual([{ x: 100, y: 50, width: 20, height: 10 }]);
      expect(pixel(frame, 105, 55)).toEqual([0, 0, 255]);
      expect(source.grab().changed).toBe(false);
    } finally {
      source.close();
    }
  });

  it('sleeps through a still screen and wakes when something is drawn', async () => {
    const source = capturer.openFrameSource(0);
    try {
      source.grab();
      expect(source.grab().changed).toBe(false);
      let woke = false;
      const started = performance.now();
      const wait = source.waitForChange!(5000).then(() => {
        woke = true;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(woke).toBe(false); // nothing drawn: still asleep
      fillRect(xvfb.display, { x: 10, y: 10, width: 4, height: 4 }, 0x00ff00);
      await wait;
      expect(performance.now() - started).toBeLessThan(4000); // the drawing woke it, not the timeout
      const frame = source.grab();
      expect(frame.changed).toBe(true);
      expect(frame.dirty).toEqual([{ x: 10, y: 10, width: 4, height: 4 }]);
    } finally {
      source.close();
    }
  });

  it('can be closed while it waits for a change', async () => {
    const source = capturer.openFrameSource(0);
    source.grab();
    const wait = source.waitForChange!(3000);
    source.close();
    await wait;
    expect(() => source.grab()).toThrow(/closed/);
    // The capturer still works afterwards (the connection was not closed under the poll's feet).
    const again = capturer.openFrameSource(0);
    expect(again.grab().changed).toBe(true);
    again.close();
  });

  it('gives the cursor position and a shape with its hotspot inside it', () => {
    const cursor = capturer.openCursorSource();
    try {
      execFileSync('xdotool', ['mousemove', '123', '234'], { env: xvfb.env });
      const first = cursor.read();
      expect({ x: first.x, y: first.y }).toEqual({ x: 123, y: 234 });
      expect(first.shape).toBeDefined();
      const shape = first.shape!;
      expect(shape.rgba.length).toBe(shape.width * shape.height * 4);
      expect(shape.hotX).toBeLessThan(shape.width);
      execFileSync('xdotool', ['mousemove', '10', '20'], { env: xvfb.env });
      const second = cursor.read();
      expect({ x: second.x, y: second.y }).toEqual({ x: 10, y: 20 });
      expect(second.shape).toBeUndefined(); // same serial: the shape is not sent again
    } finally {
      cursor.close();
    }
  });

  it('throws a clear error for a display that does not exist', async () => {
    await expect(createCapturer({ kind: 'x11', display: ':999' })).rejects.toThrow(/XOpenDisplay.*:999/);
  });
});

describe('X11 capturer on a two-monitor desktop', () => {
  let xvfb: XvfbHandle;
  let capturer: Capturer;
  beforeAll(async () => {
    xvfb = await startXvfb({ screens: [{ w: 1280, h: 480 }] });
    defineMonitors(xvfb.display, [
      { name: 'LEFT', x: 0, y: 0, width: 640, height: 480, primary: true },
      { name: 'RIGHT', x: 640, y: 0, width: 640, height: 480 },
    ]);
    capturer = await createCapturer({ kind: 'x11', display: xvfb.display });
  });
  afterAll(async () => {
    capturer?.close();
    await xvfb?.stop();
  });

  it('lists both monitors with their rectangles', () => {
    expect(capturer.displays()).toEqual([
      { index: 0, name: 'LEFT', x: 0, y: 0, width: 640, height: 480, primary: true },
      { index: 1, name: 'RIGHT', x: 640, y: 0, width: 640, height: 480, primary: false },
    ]);
  });

  it("captures display 1's own pixels, and ignores changes on display 0", async () => {
    fillRect(xvfb.display, { x: 0, y: 0, width: 640, height: 480 }, 0x00ff00);
    fillRect(xvfb.display, { x: 640, y: 0, width: 640, height: 480 }, 0x0000ff);
    const source = capturer.openFrameSource(1);
    try {
      const frame = source.grab();
      expect({ w: frame.width, h: frame.height }).toEqual({ w: 640, h: 480 });
      expect(pixel(frame, 0, 0)).toEqual([255, 0, 0]);
      expect(pixel(frame, 639, 479)).toEqual([255, 0, 0]);
      fillRect(xvfb.display, { x: 10, y: 10, width: 50, height: 50 }, 0xffffff);
      expect((await nextChange(source, 200)).changed).toBe(false);
      fillRect(xvfb.display, { x: 650, y: 10, width: 50, height: 50 }, 0xffffff);
      const after = await nextChange(source);
      expect(after.changed).toBe(true);
      expect(after.dirty).toEqual([{ x: 10, y: 10, width: 50, height: 50 }]);
    } finally {
      source.close();
    }
  });
});
