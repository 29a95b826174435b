/**
 * Picks the input injector and clipboard for this platform. Windows (SendInput, SendSAS, the Win32
 * clipboard) plugs in here beside X11; until it exists, Windows gets the fakes, which inject nothing.
 */
import type { Clipboard, ClipboardLog } from './clipboard.js';
import { createFakeClipboard } from './fake-clipboard.js';
import { createFakeInputInjector } from './fake-input-injector.js';
import type { InputInjector, InputLog } from './input-injector.js';
import { createX11Clipboard } from './x11-clipboard.js';
import { createX11InputInjector } from './x11-input-injector.js';

export type InputBackend = 'x11' | 'win32' | 'fake';

export interface InputOptions {
  backend?: InputBackend;
  /** X display for the x11 backend (default: $DISPLAY). */
  display?: string;
  log: InputLog & ClipboardLog;
}

export function defaultInputBackend(platform: NodeJS.Platform = process.platform): InputBackend {
  if (platform === 'linux') return 'x11';
  if (platform === 'win32') return 'win32';
  return 'fake';
}

export function createInputInjector(opts: InputOptions): InputInjector {
  const backend = opts.backend ?? defaultInputBackend();
  if (backend === 'x11') return createX11InputInjector({ display: opts.display, log: opts.log });
  if (backend === 'win32')
    opts.log.warn({ backend }, 'Windows input injection is not built yet; input is ignored');
  return createFakeInputInjector();
}

export function createClipboard(opts: InputOptions): Clipboard {
  const backend = opts.backend ?? defaultInputBackend();
  if (backend === 'x11') return createX11Clipboard({ display: opts.display, log: opts.log });
  return createFakeClipboard();
}

export type { Clipboard } from './clipboard.js';
export type { DisplayRect, InputInjector } from './input-injector.js';
