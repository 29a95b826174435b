/**
 * The Win32 capturer: DXGI Desktop Duplication when the system allows it, GDI otherwise, and the
 * choice revisited while the helper runs instead of made once for its life.
 *
 * - At start DXGI is probed (its backend's constructor duplicates the primary output); a failure
 *   selects GDI.
 * - On GDI, DXGI is probed again after a backoff (`REPROBE_DELAYS_MS`) and at the next input-desktop
 *   switch (leaving the secure desktop, a session reconnect): a duplication refused on the lock screen
 *   or during a mode change is no reason to stay on GDI.
 * - On DXGI, a frame source that gives up (`CaptureError('unsupported')`: no duplication for
 *   `GIVE_UP_AFTER_MS`, e.g. an RDP session or a driver that refuses it) moves every source to GDI.
 * - Each switch is logged once; frame sources follow it on their next grab, keeping their display by
 *   name (`\\.\DISPLAY1` in both APIs, with the same display order).
 *
 * The backends are given as factories, so the choices are unit-tested with fakes
 * (test/helper/capture/win32-capturer.test.ts); createCapturer (index.ts) wires the real ones.
 */
import { errorMessage } from '../../errors/error-text.js';
import { type Logger } from '../../log/logger.js';
import { realTimers, type Timers } from '../../time/timers.js';
import {
  CaptureError,
  type CapturedFrame,
  type Capturer,
  type CursorSource,
  type DisplayInfo,
  type FrameSource,
} from './capturer.js';

/** What moves the calling thread to the input desktop (InputDesktopFollower). */
export interface DesktopFollower {
  /** True when the thread is on the input desktop now. */
  sync(): boolean;
  /** The input desktop's name after the last successful sync. */
  readonly name: string;
}

/** One way of capturing the Win32 desktop: DXGI duplication or GDI. */
export interface Win32Backend {
  readonly method: 'dxgi' | 'gdi';
  displays(): DisplayInfo[];
  openFrameSource(displayIndex: number): FrameSource;
  close(): void;
}

export interface Win32CapturerOptions {
  follower: DesktopFollower & { close(): void };
  /** Builds the DXGI backend; throws when duplication is not available now. */
  openDxgi(): Win32Backend;
  openGdi(): Win32Backend;
  openCursor(): CursorSource;
  timers?: Pick<Timers, 'now'>;
  log?: Pick<Logger, 'info' | 'warn'>;
}

/** Waits between DXGI probes while on GDI; the last one repeats. */
export const REPROBE_DELAYS_MS: readonly number[] = [5_000, 10_000, 30_000, 60_000];
/** A desktop switch probes at once, but not more often than this. */
export const REPROBE_MIN_INTERVAL_MS = 1_000;

export class Win32Capturer implements Capturer {
  readonly kind = 'win32' as const;
  private backend: Win32Backend;
  /** Bumped on every switch of backend; sources compare it to reopen on the new one. */
  private generation = 0;
  private probes = 0;
  private nextProbeAt = 0;
  private lastProbeAt = 0;
  private probeDesktop = '';
  private gdiSince = 0;
  private closed = false;
  private readonly timers: Pick<Timers, 'now'>;

  constructor(private readonly options: Win32CapturerOptions) {
    this.timers = options.timers ?? realTimers;
    options.follower.sync();
    let dxgi: Win32Backend | undefined;
    try {
      dxgi = options.openDxgi();
    } catch (err) {
      // Wine (E_NOTIMPL), RDP sessions and drivers without duplication land here.
      options.log?.warn(
        { reason: errorMessage(err) },
        'DXGI desktop duplication unavailable; capturing with GDI',
      );
    }
    if (dxgi) {
      this.backend = dxgi;
      options.log?.info({ displays: dxgi.displays().length }, 'capturing with DXGI desktop duplication');
    } else {
      this.backend = options.openGdi();
      this.onGdi();
    }
  }

  /** Which Windows API delivers the frames now. */
  get method(): 'dxgi' | 'gdi' {
    return this.backend.method;
  }

  /** Bumped on every switch of backend. */
  get backendGeneration(): number {
    return this.generation;
  }

  displays(): DisplayInfo[] {
    this.maybeReprobe();
    return this.backend.displays();
  }

  openFrameSource(displayIndex: number): FrameSource {
    this.maybeReprobe();
    const all = this.backend.displays();
    const display = all[displayIndex];
    if (!display)
      throw new CaptureError('no_such_display', `no display ${displayIndex} (have ${all.length})`);
    return new Win32FrameSource(this, display);
  }

  openCursorSource(): CursorSource {
    return this.options.openCursor();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.backend.close();
    this.options.follower.close();
  }

  /**
   * The inner source for display `name` (or, when no display has that name, index `fallbackIndex`) on
   * the current backend. A DXGI backend that refuses (`unsupported`) is replaced by GDI first.
   */
  openInner(name: string, fallbackIndex: number): FrameSource {
    if (this.closed) throw new CaptureError('closed', 'the capturer is closed');
    for (;;) {
      const all = this.backend.displays();
      let index = all.findIndex((d) => d.name === name);
      if (index < 0) index = fallbackIndex;
      if (!all[index]) throw new CaptureError('no_such_display', `display ${name} is gone`);
      try {
        return this.backend.openFrameSource(index);
      } catch (err) {
        if (!this.fallBack(err)) throw err;
      }
    }
  }

  /**
   * A DXGI failure that means "use GDI" (`unsupported`): switches to GDI, logs once, returns true.
   * Anything else (or already on GDI): false.
   */
  fallBack(err: unknown): boolean {
    if (this.closed || this.backend.method !== 'dxgi') return false;
    if (!(err instanceof CaptureError) || err.code !== 'unsupported') return false;
    this.options.log?.warn(
      { reason: errorMessage(err) },
      'DXGI desktop duplication lost; capturing with GDI',
    );
    const old = this.backend;
    this.backend = this.options.openGdi();
    this.generation += 1;
    old.close();
    this.probes = 0;
    this.onGdi();
    return true;
  }

  /** On GDI: probes DXGI again when the backoff has passed or the input desktop changed. */
  maybeReprobe(): void {
    if (this.closed || this.backend.method !== 'gdi') return;
    const now = this.timers.now();
    const desktop = this.options.follower.name;
    const switched = desktop !== this.probeDesktop && now - this.lastProbeAt >= REPROBE_MIN_INTERVAL_MS;
    if (now < this.nextProbeAt && !switched) return;
    this.lastProbeAt = now;
    this.probeDesktop = desktop;
    let dxgi: Win32Backend;
    try {
      this.options.follower.sync();
      dxgi = this.options.openDxgi();
    } catch {
      // Same choice as before: not logged again.
      this.probes += 1;
      this.schedule(now);
      return;
    }
    const old = this.backend;
    this.backend = dxgi;
    this.generation += 1;
    old.close();
    this.options.log?.info(
      { afterMs: Math.round(now - this.gdiSince), probes: this.probes + 1 },
      'DXGI desktop duplication available again; capturing with DXGI',
    );
  }

  private onGdi(): void {
    const now = this.timers.now();
    this.gdiSince = now;
    this.lastProbeAt = now;
    this.probeDesktop = this.options.follower.name;
    this.schedule(now);
  }

  private schedule(now: number): void {
    const last = REPROBE_DELAYS_MS[REPROBE_DELAYS_MS.length - 1] ?? 60_000;
    this.nextProbeAt = now + (REPROBE_DELAYS_MS[this.probes] ?? last);
  }
}

/** A display's frames from whichever backend is current; reopened on the new one after a switch. */
class Win32FrameSource implements FrameSource {
  private inner: FrameSource;
  private generation: number;
  private readonly name: string;
  private readonly index: number;
  private closed = false;

  constructor(
    private readonly capturer: Win32Capturer,
    display: DisplayInfo,
  ) {
    this.name = display.name;
    this.index = display.index;
    this.inner = capturer.openInner(this.name, this.index);
    this.generation = capturer.backendGeneration;
  }

  get display(): DisplayInfo {
    return this.inner.display;
  }

  grab(): CapturedFrame {
    if (this.closed) throw new CaptureError('closed', 'grab on a closed frame source');
    this.capturer.maybeReprobe();
    for (;;) {
      if (this.generation !== this.capturer.backendGeneration) this.reopen();
      try {
        return this.inner.grab();
      } catch (err) {
        if (!this.capturer.fallBack(err)) throw err;
      }
    }
  }

  private reopen(): void {
    this.inner.close();
    // The generation is read after opening: opening may itself fall back to GDI (and bump it).
    this.inner = this.capturer.openInner(this.name, this.index);
    this.generation = this.capturer.backendGeneration;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.inner.close();
  }
}
