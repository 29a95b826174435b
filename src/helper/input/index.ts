/**
 * Picks the input injector and clipboard for this platform: X11 (XTest, xclip), Windows (SendInput,
 * SendSAS, the Win32 clipboard) or the fakes, which inject nothing.
 */
import type { Clipboard } from './clipboard.js';
import { createFakeClipboard } from './fake-clipboard.js';
import { createFakeInputInjector } from './fake-input-injector.js';
import type { InputInjector } from './input-injector.js';
import { unsupportedInputBlock, type LocalInputBlock } from './local-input-block.js';
import { type Logger } from '../../log/logger.js';

// The X11 backends load libX11 and friends when their modules are evaluated: import them on Linux only,
// so that the CLI and the helper start on Windows (where those libraries do not exist).
const x11 =
  process.platform === 'linux'
    ? { ...(await import('./x11-clipboard.js')), ...(await import('./x11-input-injector.js')) }
    : undefined;
// The Windows backends declare their koffi types at evaluation: likewise, on Windows only.
const win32 =
  process.platform === 'win32'
    ? {
        ...(await import('./win32-clipboard.js')),
        ...(await import('./win32-input-injector.js')),
        ...(await import('../win32-input-desktop/dpi-awareness.js')),
        ...(await import('./win32-local-input-block.js')),
      }
    : undefined;
function win32Backend(): NonNullable<typeof win32> {
  if (!win32) throw new Error('the win32 input backend needs Windows');
  return win32;
}
function x11Backend(): NonNullable<typeof x11> {
  if (!x11) throw new Error('the x11 input backend needs Linux');
  return x11;
}

export type InputBackend = 'x11' | 'win32' | 'fake';

export interface InputOptions {
  backend?: InputBackend;
  /** X display for the x11 backend (default: $DISPLAY). */
  display?: string;
  log: Pick<Logger, 'debug' | 'warn'> & Pick<Logger, 'debug' | 'warn'>;
}

export function defaultInputBackend(platform: NodeJS.Platform = process.platform): InputBackend {
  if (platform === 'linux') return 'x11';
  if (platform === 'win32') return 'win32';
  return 'fake';
}

export function createInputInjector(opts: InputOptions): InputInjector {
  const backend = opts.backend ?? defaultInputBackend();
  if (backend === 'x11') return x11Backend().createX11InputInjector({ display: opts.display, log: opts.log });
  if (backend === 'win32') {
    // Physical pixels, as the capturer sees them (idempotent; whichever comes first sets it).
    win32Backend().ensureProcessDpiAware();
    return win32Backend().createWin32InputInjector({ log: opts.log });
  }
  return createFakeInputInjector();
}

export function createClipboard(opts: InputOptions): Clipboard {
  const backend = opts.backend ?? defaultInputBackend();
  if (backend === 'x11') return x11Backend().createX11Clipboard({ display: opts.display, log: opts.log });
  if (backend === 'win32') return win32Backend().createWin32Clipboard({ log: opts.log });
  return createFakeClipboard();
}

export type { Clipboard } from './clipboard.js';
export type { DisplayRect, InputInjector } from './input-injector.js';

/**
 * The session's local input block (`access.blockLocalInput`): BlockInput on Windows; on X11 nothing can
 * be blocked soundly (XTest input passes through the same grabs, and disabled devices stay disabled if
 * the helper dies: design/SESSION-POLICY.md), so a hold there only logs that.
 */
export function createLocalInputBlock(opts: {
  backend?: InputBackend;
  log: Pick<Logger, 'debug' | 'info' | 'warn'>;
}): LocalInputBlock {
  const backend = opts.backend ?? defaultInputBackend();
  if (backend === 'win32') return win32Backend().createWin32LocalInputBlock(opts.log);
  return unsupportedInputBlock(
    backend === 'x11'
      ? 'X11 has no sound way to block the local keyboard and mouse while XTest injects'
      : 'no input backend on this platform',
    opts.log,
  );
}
