/**
 * Picks and opens the capturer for this platform, or the one asked for. Nothing imports this file
 * back: the implementations depend on capturer.ts (the interface) only.
 */
import type { Capturer, CapturerKind } from './capturer.js';
import { errorMessage } from '../../errors/error-text.js';
import { type Logger } from '../../log/logger.js';

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
      const { Win32DxgiCapturer } = await import('./win32-dxgi-capturer.js');
      try {
        return new Win32DxgiCapturer(options.log);
      } catch (err) {
        // Wine (E_NOTIMPL), RDP sessions and drivers without duplication land here.
        options.log?.warn(
          { reason: errorMessage(err) },
          'DXGI desktop duplication unavailable; capturing with GDI',
        );
      }
      const { Win32GdiCapturer } = await import('./win32-gdi-capturer.js');
      return new Win32GdiCapturer(options.log);
    }
  }
}
