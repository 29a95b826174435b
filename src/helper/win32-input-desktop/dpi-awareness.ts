/**
 * Makes the helper per-monitor DPI aware before it asks Windows for any coordinate. A DPI-unaware
 * process sees scaled ("virtualised") monitor rectangles and cursor positions, so BitBlt would read a
 * part of a 150 %-scaled screen and SendInput would land off target. Per-monitor v2 (Windows 10 1703+)
 * gives physical pixels everywhere; then per-monitor v1; then system-wide awareness (SetProcessDPIAware).
 * The setting is process-wide and can be made once: later calls return what the first one did.
 */
import {
  DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE,
  DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2,
  user32,
} from '../../native/win32/user32.js';
import { lastError } from '../../native/win32/last-error.js';
import { errorMessage } from '../../errors/error-text.js';
import { type Logger } from '../../log/logger.js';

export type DpiAwareness = 'per-monitor-v2' | 'per-monitor' | 'system' | 'unaware';

let result: DpiAwareness | undefined;
let lastReason: string | undefined;

/** Why per-monitor v2 could not be set, when it could not. */
export function dpiFallbackReason(): string | undefined {
  return lastReason;
}

export function ensureProcessDpiAware(log?: Pick<Logger, 'info'>): DpiAwareness {
  if (result) return result;
  const u = user32();
  let awareness: DpiAwareness = 'unaware';
  let why: string | undefined;
  try {
    if (u.SetProcessDpiAwarenessContext(DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2))
      awareness = 'per-monitor-v2';
    else {
      why = lastError('SetProcessDpiAwarenessContext(PER_MONITOR_AWARE_V2)').message;
      // Windows 10 before 1703 (and Wine 8) know only v1, which scales non-client areas less well.
      if (u.SetProcessDpiAwarenessContext(DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE)) awareness = 'per-monitor';
    }
  } catch (err) {
    // user32 before Windows 10 1607 has no SetProcessDpiAwarenessContext: koffi fails to find it.
    why = errorMessage(err);
  }
  if (awareness === 'unaware' && u.SetProcessDPIAware()) awareness = 'system';
  result = awareness;
  lastReason = why;
  log?.info({ awareness, ...(why ? { fallbackReason: why } : {}) }, 'DPI awareness set');
  return awareness;
}
