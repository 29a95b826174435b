/**
 * Browser wheel deltas → the protocol's unit (Windows' WHEEL_DELTA: 120 is one notch). Browsers
 * report a notch differently: Chromium in pixels (100 px a notch at 100 % zoom), Firefox in lines
 * (3 a notch, the Windows default), and "one screen at a time" settings in pages. The helper keeps
 * the remainder of partial notches, so smooth trackpad deltas add up instead of being lost.
 */

export const WHEEL_NOTCH = 120;
const PIXELS_PER_NOTCH = 100;
const LINES_PER_NOTCH = 3;
/** The protocol's bound on one message. */
const MAX_DELTA = 12_000;

export const DOM_DELTA_PIXEL = 0;
export const DOM_DELTA_LINE = 1;
export const DOM_DELTA_PAGE = 2;

export interface WheelInput {
  deltaX: number;
  deltaY: number;
  deltaMode: number;
}

function unitsPer(deltaMode: number): number {
  if (deltaMode === DOM_DELTA_LINE) return WHEEL_NOTCH / LINES_PER_NOTCH;
  // A page scroll is what one notch does when the OS is set to scroll a screen at a time.
  if (deltaMode === DOM_DELTA_PAGE) return WHEEL_NOTCH;
  return WHEEL_NOTCH / PIXELS_PER_NOTCH;
}

const bound = (v: number): number => Math.max(-MAX_DELTA, Math.min(MAX_DELTA, Math.round(v)));

/**
 * Same signs as the DOM (positive dy scrolls down, positive dx right), which is also the protocol's.
 * Undefined when nothing is left to send after rounding.
 */
export function wheelToProtocol(e: WheelInput): { dx: number; dy: number } | undefined {
  const k = unitsPer(e.deltaMode);
  const dx = bound((Number.isFinite(e.deltaX) ? e.deltaX : 0) * k);
  const dy = bound((Number.isFinite(e.deltaY) ? e.deltaY : 0) * k);
  if (dx === 0 && dy === 0) return undefined;
  // `+ 0` turns a -0 from rounding into 0, which JSON would print the same but tests compare strictly.
  return { dx: dx + 0, dy: dy + 0 };
}
