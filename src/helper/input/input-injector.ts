/**
 * Injecting the viewer's pointer and keyboard into the session. One interface, three implementations:
 * X11 (XTest), Windows (SendInput) and a fake that records calls. Ctrl+Alt+Del is not here: Windows
 * lets only a service send it, so the desktop session asks the service (desktop-session.ts). Messages are validated and
 * rate-limited before they get here, but an injector still never throws on odd input: it drops it with
 * a log line, because a throw here would unwind into a DataChannel callback.
 */
import type { PointerButton } from '../../protocol/datachannel.js';

/** The chosen display's rectangle in desktop coordinates (X root window / Windows virtual screen). */
export interface DisplayRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface InputInjector {
  /** Moves the pointer to (x01, y01) ∈ [0,1]² of `rect`; 1 is the last pixel, values outside are clamped. */
  pointerMove(rect: DisplayRect, x01: number, y01: number): void;
  button(button: PointerButton, down: boolean): void;
  /** Wheel deltas in Windows' unit: 120 is one notch; negative dy scrolls up, negative dx left. */
  wheel(dx: number, dy: number): void;
  /** A physical key by KeyboardEvent.code (e.g. `KeyA`, `ShiftLeft`, `NumpadEnter`). */
  key(code: string, down: boolean): void;
  /** Types Unicode text as it is, whatever the keyboard layout. */
  text(text: string): void;
  /** Releases every key and button this injector holds down (the viewer went away mid-press). */
  releaseAll(): void;
  close(): void;
}

/** Maps a normalised position onto a display rectangle, clamped to its first and last pixel. */
export function toDesktopPoint(rect: DisplayRect, x01: number, y01: number): { x: number; y: number } {
  const along = (v: number, size: number): number => {
    const n = Number.isFinite(v) ? v : 0;
    return Math.max(0, Math.min(size - 1, Math.floor(n * size)));
  };
  return { x: rect.x + along(x01, rect.width), y: rect.y + along(y01, rect.height) };
}

/**
 * Turns wheel deltas into whole notches, keeping the remainder: touchpads and high-resolution wheels
 * send fractions of a notch, and dropping them would make slow scrolling do nothing.
 */
export class WheelAccumulator {
  private restX = 0;
  private restY = 0;
  static readonly NOTCH = 120;
  /** Most notches one message may produce (the protocol caps deltas at ±12000 = 100 notches). */
  static readonly MAX_NOTCHES = 100;

  /** Returns the whole notches to send now (sign = direction). */
  add(dx: number, dy: number): { x: number; y: number } {
    this.restX += Number.isFinite(dx) ? dx : 0;
    this.restY += Number.isFinite(dy) ? dy : 0;
    const take = (rest: number): number => {
      const n = Math.trunc(rest / WheelAccumulator.NOTCH) || 0; // no -0
      return Math.max(-WheelAccumulator.MAX_NOTCHES, Math.min(WheelAccumulator.MAX_NOTCHES, n));
    };
    const x = take(this.restX);
    const y = take(this.restY);
    this.restX -= x * WheelAccumulator.NOTCH;
    this.restY -= y * WheelAccumulator.NOTCH;
    // A remainder can only stay under one notch's worth; anything beyond the cap is dropped.
    this.restX = Math.max(-119, Math.min(119, this.restX));
    this.restY = Math.max(-119, Math.min(119, this.restY));
    return { x, y };
  }

  reset(): void {
    this.restX = 0;
    this.restY = 0;
  }
}
