/**
 * The DXGI Desktop Duplication backend of the Win32 capturer: the GPU tells which frames and
 * rectangles changed, and the desktop image is copied into a CPU-readable staging texture only when
 * something did.
 *
 *   CreateDXGIFactory1 → EnumAdapters1 → EnumOutputs (every adapter) → D3D11CreateDevice(adapter)
 *   → IDXGIOutput1::DuplicateOutput; per grab: AcquireNextFrame → dirty/move rects → CopyResource
 *   (staging) → Map → rows → Unmap → ReleaseFrame.
 *
 * The D3D/DXGI calls go through `DxgiApi` (dxgi-api.ts; koffi in win32-dxgi-api.ts, a fake in the unit
 * tests). The recovery rules are in dxgi-recovery.ts; this file applies them:
 *
 * - The constructor builds the chain and duplicates the primary output once as a probe; any failure
 *   throws, and the Win32 capturer captures with GDI instead (Wine: E_NOTIMPL).
 * - A lost duplication (desktop switch, mode change, removed or reset device, an unexpected HRESULT)
 *   and a factory that is no longer current (`IsCurrent`) drop the whole chain; the next try
 *   re-enumerates, follows the input desktop and duplicates again. Staging texture and frame buffer
 *   follow the size of the textures the duplication delivers, so a resolution, DPI or rotation change
 *   yields frames of the new size.
 * - Re-creation is tried on grabs, when `RetrySchedule` says so (never sleeping: grabs in between
 *   report an unchanged frame); after `GIVE_UP_AFTER_MS` without a duplication the source throws
 *   `CaptureError('unsupported')`, on which the Win32 capturer falls back to GDI.
 *
 * Rotated outputs are delivered as the GPU stores them (the texture is not rotated back).
 */
import { errorMessage } from '../../errors/error-text.js';
import { type Logger } from '../../log/logger.js';
import { DXGI_ERROR } from '../../native/win32/dxgi.js';
import { Win32Error } from '../../native/win32/win32-error.js';
import { realTimers, type Timers } from '../../time/timers.js';
import {
  CaptureError,
  type CapturedFrame,
  type DisplayInfo,
  type FrameSource,
  type Rect,
} from './capturer.js';
import { monotonicUs } from './clock.js';
import type { DxgiApi, DxgiChain, DxgiDuplication, DxgiOutputInfo, DxgiStaging } from './dxgi-api.js';
import {
  afterDuplicateFailure,
  afterFrameFailure,
  GIVE_UP_AFTER_MS,
  hresultHex,
  isDeviceError,
  RetrySchedule,
} from './dxgi-recovery.js';
import type { DesktopFollower, Win32Backend } from './win32-capturer.js';

/** The first frame after DuplicateOutput is the whole desktop; it may take a moment to arrive. */
const FIRST_FRAME_TIMEOUT_MS = 100;
/** Without viewers nothing observes a mode change: `displays()` re-enumerates when this old. */
const IDLE_ENUMERATION_MAX_AGE_MS = 1000;

export interface DxgiCapturerOptions {
  api: DxgiApi;
  /** Moves the calling thread to the input desktop (before enumerating and before DuplicateOutput). */
  follower: DesktopFollower;
  timers?: Pick<Timers, 'now'>;
  log?: Pick<Logger, 'info' | 'warn'>;
  /** How long a display may go without a duplication before its source throws `unsupported`. */
  giveUpAfterMs?: number;
}

/** The HRESULT of a failed D3D/DXGI call, or undefined for any other error. */
function hresultOf(err: unknown): number | undefined {
  return err instanceof Win32Error && err.hresult ? err.win32Code | 0 : undefined;
}

function toDisplay(o: DxgiOutputInfo, index: number): DisplayInfo {
  return { index, name: o.name, ...o.rect, primary: o.rect.x === 0 && o.rect.y === 0 };
}

export class Win32DxgiCapturer implements Win32Backend {
  readonly method = 'dxgi' as const;
  private chain: DxgiChain | undefined;
  /** Identifies the chain a duplication was made on; bumped whenever a chain is built. */
  private chainGeneration = 0;
  private enumeratedAt = 0;
  private lastDisplays: DisplayInfo[] = [];
  private readonly sources = new Set<DxgiFrameSource>();
  private closed = false;
  readonly timers: Pick<Timers, 'now'>;

  constructor(readonly options: DxgiCapturerOptions) {
    this.timers = options.timers ?? realTimers;
    try {
      const chain = this.ensureChain();
      const first = chain.outputs[0];
      if (!first)
        throw new CaptureError('unsupported', 'DXGI: no adapter has an output attached to the desktop');
      this.options.follower.sync();
      chain.duplicate(first).close();
    } catch (err) {
      this.close();
      throw err;
    }
  }

  get generation(): number {
    return this.chain ? this.chainGeneration : -1;
  }

  /** The chain, built (after following the input desktop) when there is none. */
  ensureChain(): DxgiChain {
    if (this.closed) throw new CaptureError('closed', 'the DXGI capturer is closed');
    if (!this.chain) {
      this.options.follower.sync();
      this.chain = this.options.api.open();
      this.chainGeneration += 1;
      this.enumeratedAt = this.timers.now();
      this.lastDisplays = this.chain.outputs.map(toDisplay);
    }
    return this.chain;
  }

  /**
   * Drops the chain made at `generation` (a stale request for an older chain is ignored, so several
   * sources losing their duplication at once cause one rebuild). Duplications made on it are released
   * by `close()`; their sources notice the new generation on their next grab.
   */
  invalidate(generation: number, reason: string, quiet = false): void {
    if (!this.chain || generation !== this.chainGeneration) return;
    if (!quiet)
      this.options.log?.info({ reason }, 'DXGI: releasing the device chain; it is rebuilt on the next try');
    this.chain.close();
    this.chain = undefined;
  }

  /** IDXGIFactory1::IsCurrent, checked once per grab: false → the chain is rebuilt. */
  checkCurrent(): void {
    if (this.chain && !this.chain.isCurrent())
      this.invalidate(this.chainGeneration, 'IDXGIFactory1::IsCurrent returned FALSE (adapters changed)');
  }

  displays(): DisplayInfo[] {
    if (this.closed) return [];
    this.checkCurrent();
    // No open source observes mode changes (ACCESS_LOST), so an idle chain is re-enumerated now and
    // then; enumeration is cheap, devices are only created for a duplication.
    const idle = this.sources.size === 0;
    if (this.chain && idle && this.timers.now() - this.enumeratedAt >= IDLE_ENUMERATION_MAX_AGE_MS)
      this.invalidate(this.chainGeneration, 'idle re-enumeration', true);
    if (!this.chain && idle) {
      try {
        this.ensureChain();
      } catch {
        // Kept: the last list; a source's recovery reports the failure.
      }
    }
    return this.lastDisplays.map((d) => ({ ...d }));
  }

  openFrameSource(displayIndex: number): FrameSource {
    const display = this.displays()[displayIndex];
    if (!display)
      throw new CaptureError(
        'no_such_display',
        `no display ${displayIndex} (have ${this.lastDisplays.length})`,
      );
    const source = new DxgiFrameSource(this, display);
    this.sources.add(source);
    return source;
  }

  /** The display a source of output `name` now is (index and rectangle from the current chain). */
  displayNamed(name: string): DisplayInfo | undefined {
    return this.lastDisplays.find((d) => d.name === name);
  }

  forget(source: DxgiFrameSource): void {
    this.sources.delete(source);
  }

  close(): void {
    if (this.closed) return;
    for (const s of [...this.sources]) s.close();
    this.chain?.close();
    this.chain = undefined;
    this.closed = true;
  }
}

class DxgiFrameSource implements FrameSource {
  private info: DisplayInfo;
  private duplication: DxgiDuplication | undefined;
  private duplicationGeneration = -1;
  private staging: DxgiStaging | undefined;
  private frame: Buffer = Buffer.alloc(0);
  private width = 0;
  private height = 0;
  private sequence = 0;
  /** True until a full image has been copied (at start, after re-creation, after a size change). */
  private needFull = true;
  private closed = false;
  private readonly retry: RetrySchedule;
  /** Why the duplication is gone, while it is (one log line per loss and one per recovery). */
  private lostReason: string | undefined;
  private lastFailure = '';
  /** DuplicateOutput failures in a row (the chain is rebuilt after every second one). */
  private duplicateFailures = 0;
  private readonly giveUpAfterMs: number;

  constructor(
    private readonly capturer: Win32DxgiCapturer,
    display: DisplayInfo,
  ) {
    this.info = display;
    this.retry = new RetrySchedule(capturer.timers);
    this.giveUpAfterMs = capturer.options.giveUpAfterMs ?? GIVE_UP_AFTER_MS;
    this.resize(display.width, display.height);
    // A transient refusal (a desktop switch under way) is retried on the grabs; only a system without
    // duplication (E_NOTIMPL) fails here.
    this.recreate();
  }

  get display(): DisplayInfo {
    return this.info;
  }

  private get log(): Pick<Logger, 'info' | 'warn'> | undefined {
    return this.capturer.options.log;
  }

  grab(): CapturedFrame {
    if (this.closed) throw new CaptureError('closed', 'grab on a closed frame source');
    this.capturer.checkCurrent();
    if (this.duplication && this.duplicationGeneration !== this.capturer.generation) this.drop();
    if (!this.duplication && this.retry.due()) this.recreate();
    const dirty = this.duplication ? this.acquire() : [];
    this.sequence += 1;
    return {
      data: this.frame,
      width: this.width,
      height: this.height,
      stride: this.width * 4,
      format: 'BGRX',
      timestampUs: monotonicUs(),
      changed: dirty.length > 0,
      dirty,
      sequence: this.sequence,
    };
  }

  /** Follows the input desktop, (re)builds the chain when needed and duplicates this output. */
  private recreate(): void {
    try {
      const chain = this.capturer.ensureChain();
      const output = chain.outputs.find((o) => o.name === this.info.name);
      if (!output) throw new CaptureError('no_such_display', `${this.info.name} is not attached`);
      this.capturer.options.follower.sync();
      this.duplication = chain.duplicate(output);
      this.duplicateFailures = 0;
      this.duplicationGeneration = this.capturer.generation;
      this.info = this.capturer.displayNamed(output.name) ?? this.info;
      this.needFull = true;
      if (this.lostReason !== undefined) {
        this.log?.info(
          { display: this.info.name, attempts: this.retry.count, afterMs: this.retry.failingForMs },
          'desktop duplication re-created',
        );
        this.lostReason = undefined;
      }
      this.lastFailure = '';
    } catch (err) {
      const code = hresultOf(err);
      const gone = err instanceof CaptureError && err.code === 'no_such_display';
      if (code === undefined && !gone) throw err;
      this.duplicateFailures += 1;
      const action = code === undefined ? 'rebuild' : afterDuplicateFailure(code, this.duplicateFailures);
      const message = errorMessage(err);
      if (action === 'unsupported') throw new CaptureError('unsupported', message, { cause: err });
      this.failed(message, err);
      // Logged by failed() above.
      if (action === 'rebuild') this.capturer.invalidate(this.capturer.generation, message, true);
    }
  }

  /** One failed try: schedule the next, log a new reason once, give up after `giveUpAfterMs`. */
  private failed(message: string, cause: unknown): void {
    this.retry.failed();
    this.lostReason ??= message;
    if (message !== this.lastFailure) {
      this.lastFailure = message;
      this.log?.info({ display: this.info.name, err: message }, 'desktop duplication unavailable; retrying');
    }
    if (this.retry.failingForMs >= this.giveUpAfterMs)
      throw new CaptureError(
        'unsupported',
        `DXGI desktop duplication of ${this.info.name} unavailable for ${this.retry.failingForMs} ms: ${message}`,
        { cause },
      );
  }

  /** The next frame if there is one; returns the changed rectangles. */
  private acquire(): Rect[] {
    const dup = this.duplication!;
    const got = dup.acquireNextFrame(this.needFull ? FIRST_FRAME_TIMEOUT_MS : 0);
    if (typeof got === 'number') {
      if (afterFrameFailure(got) === 'none') {
        this.retry.succeeded();
        return [];
      }
      this.lose('IDXGIOutputDuplication::AcquireNextFrame', got);
      return [];
    }
    let failure: { call: string; code: number } | undefined;
    let rects: Rect[] = [];
    try {
      this.retry.succeeded();
      // Only the pointer moved: the image is unchanged.
      if (!got.presented && !this.needFull) return [];
      if (got.width !== this.width || got.height !== this.height) {
        // A mode, DPI or rotation change: frames now come at this size.
        this.log?.info(
          { display: this.info.name, from: `${this.width}x${this.height}`, to: `${got.width}x${got.height}` },
          'desktop size changed',
        );
        this.resize(got.width, got.height);
      }
      if (
        !this.staging ||
        this.staging.width !== got.width ||
        this.staging.height !== got.height ||
        this.staging.format !== got.format
      ) {
        this.staging?.close();
        this.staging = undefined;
        this.staging = dup.createStaging(got);
      }
      const changed = this.needFull ? [] : got.changedRects();
      got.copyTo(this.staging);
      this.staging.read(this.frame, this.width * 4);
      rects = this.needFull || changed.length === 0 ? [this.whole()] : this.clamp(changed);
      this.needFull = false;
    } catch (err) {
      const code = hresultOf(err);
      if (code === undefined) throw err;
      failure = { call: err instanceof Win32Error ? err.call : 'DXGI', code };
    } finally {
      got.release();
    }
    if (failure) {
      this.lose(failure.call, failure.code);
      return [];
    }
    return rects;
  }

  /** The duplication is gone: release it, have the chain rebuilt, re-create on a later grab. */
  private lose(call: string, code: number): void {
    const reason = `${call} failed: HRESULT ${hresultHex(code)}`;
    const generation = this.duplicationGeneration;
    this.log?.info(
      {
        display: this.info.name,
        hresult: hresultHex(code),
        kind:
          code === DXGI_ERROR.ACCESS_LOST
            ? 'access_lost'
            : isDeviceError(code)
              ? 'device_lost'
              : 'unexpected',
      },
      'desktop duplication lost; rebuilding',
    );
    this.drop();
    this.capturer.invalidate(generation, reason, true);
    this.needFull = true;
    this.lastFailure = reason;
    this.failed(reason, new Win32Error(call, code, { hresult: true }));
  }

  private drop(): void {
    this.staging?.close();
    this.staging = undefined;
    this.duplication?.close();
    this.duplication = undefined;
  }

  private resize(width: number, height: number): void {
    this.width = width;
    this.height = height;
    this.frame = Buffer.alloc(width * height * 4);
    this.staging?.close();
    this.staging = undefined;
    this.needFull = true;
  }

  private whole(): Rect {
    return { x: 0, y: 0, width: this.width, height: this.height };
  }

  /** Rectangles cut to the frame (they come from the OS, but a stale one must not index past it). */
  private clamp(rects: Rect[]): Rect[] {
    const out: Rect[] = [];
    for (const r of rects) {
      const x = Math.max(0, r.x);
      const y = Math.max(0, r.y);
      const width = Math.min(this.width, r.x + r.width) - x;
      const height = Math.min(this.height, r.y + r.height) - y;
      if (width > 0 && height > 0) out.push({ x, y, width, height });
    }
    return out.length > 0 ? out : [this.whole()];
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.drop();
    this.capturer.forget(this);
  }
}
