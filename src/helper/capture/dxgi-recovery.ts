/**
 * The DXGI capturer's recovery rules, as pure decisions and one clock-driven schedule, so each can be
 * tested alone (test/helper/capture/dxgi-recovery.test.ts) and the capturer only applies them.
 *
 * Sources: AcquireNextFrame / ReleaseFrame (ACCESS_LOST: "release the IDXGIOutputDuplication interface
 * and create a new one"), DuplicateOutput (E_ACCESSDENIED on the secure desktop without LocalSystem,
 * DXGI_ERROR_UNSUPPORTED until the next desktop switch or mode change, NOT_CURRENTLY_AVAILABLE at the
 * limit of duplicating processes, SESSION_DISCONNECTED, E_NOTIMPL before Windows 8), DXGI_ERROR
 * (DEVICE_REMOVED / DEVICE_RESET: "destroy and recreate the device"), the DXGI desktop duplication
 * sample (these are "expected errors" after which it rebuilds everything, waiting progressively longer)
 * and Sunshine's display_base.cpp (follow the input desktop, DuplicateOutput twice 200 ms apart, then
 * re-create the whole display).
 */
import { DXGI_ERROR, E_NOTIMPL } from '../../native/win32/dxgi.js';
import type { Timers } from '../../time/timers.js';

/** Errors after which the device itself must go, not only the duplication. */
const DEVICE_ERRORS: ReadonlySet<number> = new Set([
  DXGI_ERROR.DEVICE_REMOVED,
  DXGI_ERROR.DEVICE_RESET,
  DXGI_ERROR.DEVICE_HUNG,
  DXGI_ERROR.DRIVER_INTERNAL_ERROR,
]);

export function isDeviceError(hresult: number): boolean {
  return DEVICE_ERRORS.has(hresult | 0);
}

/**
 * After AcquireNextFrame (or a call on the acquired frame: the dirty/move rects, the copy, Map) failed:
 * `none` for DXGI_ERROR_WAIT_TIMEOUT (no new frame), otherwise `rebuild`: release the duplication and
 * build the chain again. ACCESS_LOST is a desktop switch or a mode change (the output's size and
 * position may have changed, so it is re-enumerated, not only re-duplicated); the device errors
 * require a new device; anything else is rebuilt too, and counts towards giving up.
 */
export function afterFrameFailure(hresult: number): 'none' | 'rebuild' {
  return (hresult | 0) === DXGI_ERROR.WAIT_TIMEOUT ? 'none' : 'rebuild';
}

/**
 * After DuplicateOutput failed for the `attempt`-th time in a row: `unsupported` when the system has
 * no desktop duplication at all (E_NOTIMPL); `rebuild` (a new device and enumeration before the next
 * try) after a device error or every second failure, as Sunshine re-creates the display after its two
 * tries; otherwise `retry` on the same device.
 */
export function afterDuplicateFailure(hresult: number, attempt: number): 'retry' | 'rebuild' | 'unsupported' {
  if ((hresult | 0) === E_NOTIMPL) return 'unsupported';
  if (isDeviceError(hresult) || attempt % 2 === 0) return 'rebuild';
  return 'retry';
}

/**
 * Wait before the n-th retry (n ≥ 1 failures in a row): a lost duplication is re-created at once, then
 * Sunshine's 200 ms twice, then progressively longer like the duplication sample's dynamic wait.
 */
export const RETRY_DELAYS_MS: readonly number[] = [0, 200, 200, 500, 1000, 2000];

/**
 * How long a display may go without a working duplication before its source gives up (and the Win32
 * capturer falls back to GDI until DXGI can be probed again).
 */
export const GIVE_UP_AFTER_MS = 5000;

/**
 * When the next re-creation may be tried. Time comes from `timers.now()` only: `grab()` stays
 * synchronous and never sleeps; grabs before `due()` report an unchanged frame.
 */
export class RetrySchedule {
  private failures = 0;
  private nextAt = 0;
  private since: number | undefined;

  constructor(
    private readonly timers: Pick<Timers, 'now'>,
    private readonly delays: readonly number[] = RETRY_DELAYS_MS,
  ) {}

  /** Failures in a row since the duplication last delivered. */
  get count(): number {
    return this.failures;
  }

  /** Milliseconds since the first failure of the current run (0 when none). */
  get failingForMs(): number {
    return this.since === undefined ? 0 : this.timers.now() - this.since;
  }

  /** True when a re-creation may be tried now. */
  due(): boolean {
    return this.timers.now() >= this.nextAt;
  }

  /** Records a failure (a lost duplication or a failed DuplicateOutput) and schedules the next try. */
  failed(): void {
    const now = this.timers.now();
    this.failures += 1;
    this.since ??= now;
    const last = this.delays[this.delays.length - 1] ?? 0;
    this.nextAt = now + (this.delays[this.failures - 1] ?? last);
  }

  /** The duplication delivered (a frame or a timeout): the next loss starts a new run. */
  succeeded(): void {
    this.failures = 0;
    this.since = undefined;
    this.nextAt = 0;
  }
}

/** `0x887A0026` for log lines. */
export function hresultHex(code: number): string {
  return `0x${(code >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}
