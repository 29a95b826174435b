import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Capturer } from '../../src/helper/capture/capturer.js';
import { createCapturer } from '../../src/helper/capture/index.js';
import { Win32GdiCapturer } from '../../src/helper/capture/win32-gdi-capturer.js';
import {
  InputDesktopFollower,
  threadDesktopName,
} from '../../src/helper/win32-input-desktop/input-desktop-follower.js';
import { pumpMessages, solidWindow } from './desktop-windows.js';

// Under Xvfb (scripts/test-win32.sh starts one at 1280×720): Wine's one monitor is the X screen.
describe('input desktop under Wine', () => {
  test('the JS main thread switches to the input desktop, named "Default"', () => {
    const follower = new InputDesktopFollower();
    expect(follower.sync()).toBe(true);
    expect(follower.name).toBe('Default');
    expect(threadDesktopName()).toBe('Default');
    // A second sync with nothing changed keeps the thread where it is.
    expect(follower.sync()).toBe(true);
    follower.close();
  });
});

describe('Win32GdiCapturer under Wine', () => {
  let capturer: Capturer;
  beforeAll(() => {
    capturer = new Win32GdiCapturer();
  });
  afterAll(() => capturer.close());

  test('displays() lists the X screen as one primary monitor at the origin', () => {
    expect(capturer.displays()).toEqual([
      { index: 0, name: expect.any(String) as string, x: 0, y: 0, width: 1280, height: 720, primary: true },
    ]);
  });

  test('reads the colour of a window the test drew, and reports an unchanged screen as unchanged', async () => {
    const source = capturer.openFrameSource(0);
    const win = solidWindow(200, 100, 300, 200, 0x20c040);
    try {
      await pumpMessages(300);
      const first = source.grab();
      expect(first).toMatchObject({ width: 1280, height: 720, stride: 1280 * 4, changed: true, sequence: 1 });
      const at = (x: number, y: number): number[] => {
        const o = y * first.stride + x * 4;
        return [first.data[o + 2] ?? -1, first.data[o + 1] ?? -1, first.data[o] ?? -1];
      };
      expect(at(350, 200)).toEqual([0x20, 0xc0, 0x40]);
      expect(at(100, 50)).not.toEqual([0x20, 0xc0, 0x40]);

      const second = source.grab();
      expect(second.changed).toBe(false);
      expect(second.dirty).toEqual([]);
      expect(second.timestampUs).toBeGreaterThanOrEqual(first.timestampUs);

      win.close();
      await pumpMessages(300);
      const third = source.grab();
      expect(third.changed).toBe(true);
      // The rows the window covered changed (a band covering y 100..299).
      const band = third.dirty?.find((r) => r.y <= 100 && r.y + r.height >= 300);
      expect(band).toBeDefined();
    } finally {
      win.close();
      source.close();
    }
  });

  test('the cursor source reports a position and a straight-RGBA shape once', () => {
    const cursor = capturer.openCursorSource();
    try {
      const a = cursor.read();
      expect(Number.isInteger(a.x) && Number.isInteger(a.y)).toBe(true);
      expect(a.shape).toBeDefined();
      const shape = a.shape!;
      expect(shape.rgba.length).toBe(shape.width * shape.height * 4);
      const b = cursor.read();
      expect(b.serial).toBe(a.serial);
      expect(b.shape).toBeUndefined();
    } finally {
      cursor.close();
    }
  });
});

describe('createCapturer on win32', () => {
  test('asks for win32 by default', async () => {
    const c = await createCapturer();
    try {
      expect(c.kind).toBe('win32');
    } finally {
      c.close();
    }
  });
});

describe('DPI awareness under Wine', () => {
  test('Wine 8 refuses per-monitor awareness (87), so the process ends system-DPI aware, once', async () => {
    const { ensureProcessDpiAware, dpiFallbackReason } =
      await import('../../src/helper/win32-input-desktop/dpi-awareness.js');
    const first = ensureProcessDpiAware();
    expect({ first, reason: dpiFallbackReason() }).toEqual({
      first: 'system',
      reason: 'SetProcessDpiAwarenessContext(PER_MONITOR_AWARE_V2) failed: 87 ERROR_INVALID_PARAMETER',
    });
    expect(ensureProcessDpiAware()).toBe(first);
  });
});
