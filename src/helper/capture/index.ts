/**
 * Picks and opens the capturer for this platform, or the one asked for. Nothing imports this file
 * back: the implementations depend on capturer.ts (the interface) only.
 */
import type { Capturer, CapturerKind } from './capturer.js';
import { type Logger } from '../../log/logger.js';
import { realTimers, type Timers } from '../../time/timers.js';

export interface CapturerOptions {
  /** Default: `win32` on Windows, `x11` elsewhere. */
  kind?: CapturerKind;
  /** X11: the display to open (default `$DISPLAY`). */
  display?: string;
  /** Synthetic: the displays to simulate (default one 1280×720). */
  syntheticDisplays?: { width: number; height: number }[];
  /** Synthetic: how the pattern moves (default `full`). */
  syntheticMotion?: 'full' | 'box' | 'static';
  /** Win32: where the choice between DXGI and GDI (and input-desktop changes) is logged. */
  log?: Pick<Logger, 'info' | 'warn'>;
  /** Win32: the clock of DXGI's re-creation retries and re-probes (tests pass a fake one). */
  timers?: Pick<Timers, 'now'>;
}

/** Picks and opens the capturer for this platform (or the one asked for). */
export async function createCapturer(options: CapturerOptions = {}): Promise<Capturer> {
  const kind = options.kind ?? (process.platform === 'win32' ? 'win32' : 'x11');
  switch (kind) {
    case 'x11': {
      const { X11Capturer } = await import('./x11-capturer.js');
      return new X11Capturer(options.display);
    }
    case 'synthetic': {
      const { SyntheticCapturer } = await import('./synthetic-capturer.js');
      return new SyntheticCapturer(options.syntheticDisplays, options.syntheticMotion);
    }
    case 'win32': {
      const { ensureProcessDpiAware } = await import('../win32-input-desktop/dpi-awareness.js');
      ensureProcessDpiAware(options.log);
      const [
        { Win32Capturer },
        { Win32DxgiCapturer },
        { koffiDxgiApi },
        { Win32GdiCapturer },
        cursor,
        desktop,
      ] = await Promise.all([
        import('./win32-capturer.js'),
        import('./win32-dxgi-capturer.js'),
        import('./win32-dxgi-api.js'),
        import('./win32-gdi-capturer.js'),
        import('./win32-cursor.js'),
        import('../win32-input-desktop/input-desktop-follower.js'),
      ]);
      const { log } = options;
      const timers = options.timers ?? realTimers;
      // One follower for both backends and the cursor: they all run on this (the JS main) thread.
      const follower = new desktop.InputDesktopFollower(log);
      return new Win32Capturer({
        follower,
        timers,
        log,
        openDxgi: () => new Win32DxgiCapturer({ api: koffiDxgiApi, follower, timers, log }),
        openGdi: () => new Win32GdiCapturer(log, follower),
        openCursor: () => new cursor.Win32CursorSource(follower),
      });
    }
  }
}
