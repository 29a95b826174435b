/**
 * The session's keyboard mapping as the injector sees it: which keycode (and shift level) produces a
 * keysym, and spare keycodes to borrow for keysyms no key carries (F13–F24 on a PC keymap, or `é` and
 * `→` on a US one). Borrowing is what xdotool does too: map the keysym onto an unused keycode with
 * XChangeKeyboardMapping, press it, and give the keycodes back at close. The mapping is re-read when it
 * may have changed (the user switched layout), since Xlib's own cache only refreshes when a client
 * processes MappingNotify events, which this connection does not.
 */
import type { XPointer } from '../../native/x11/xlib.js';
import {
  takeKeysyms,
  XChangeKeyboardMapping,
  XDisplayKeycodes,
  XGetKeyboardMapping,
} from '../../native/x11/xtest.js';

export interface KeyPlacement {
  keycode: number;
  /** 0: the key alone; 1: with Shift. */
  level: 0 | 1;
}

const NO_SYMBOL = 0;

/** `KeySym *` for koffi: KeySym is `unsigned long`, 64 bits on LP64. */
function toKeysymArray(syms: number[]): BigUint64Array {
  return BigUint64Array.from(syms, (s) => BigInt(s));
}
/** Re-read the mapping at most this often. */
const REFRESH_MS = 2000;

export class X11KeyboardMap {
  private minKeycode = 8;
  private maxKeycode = 255;
  private perKeycode = 1;
  private keysyms: number[] = [];
  private readAt = -Infinity;
  /** Keysym → keycode for keycodes borrowed by this injector, oldest first. */
  private readonly borrowed = new Map<number, number>();
  private spare: number[] = [];

  constructor(private readonly dpy: XPointer) {
    const min = [0];
    const max = [0];
    XDisplayKeycodes(dpy, min, max);
    this.minKeycode = min[0]!;
    this.maxKeycode = max[0]!;
    this.refresh(true);
  }

  private refresh(force = false): void {
    const now = performance.now();
    if (!force && now - this.readAt < REFRESH_MS) return;
    this.readAt = now;
    const count = this.maxKeycode - this.minKeycode + 1;
    const per = [0];
    const ptr = XGetKeyboardMapping(this.dpy, this.minKeycode, count, per);
    this.perKeycode = Math.max(1, per[0]!);
    this.keysyms = takeKeysyms(ptr, count * this.perKeycode);
    this.spare = [];
    for (let kc = this.maxKeycode; kc >= this.minKeycode; kc--) {
      if (this.symsOf(kc).every((s) => s === NO_SYMBOL) && ![...this.borrowed.values()].includes(kc)) {
        this.spare.push(kc);
      }
    }
  }

  private symsOf(keycode: number): number[] {
    const i = (keycode - this.minKeycode) * this.perKeycode;
    return this.keysyms.slice(i, i + this.perKeycode);
  }

  /** Where the keysym sits in the current map at level 0 or 1 (group 1), or undefined. */
  find(keysym: number): KeyPlacement | undefined {
    this.refresh();
    let shifted: KeyPlacement | undefined;
    for (let kc = this.minKeycode; kc <= this.maxKeycode; kc++) {
      const syms = this.symsOf(kc);
      if (syms[0] === keysym) return { keycode: kc, level: 0 };
      // A key with one keysym produces it shifted too (letters list both cases, others may not).
      if (!shifted && syms[1] === keysym) shifted = { keycode: kc, level: 1 };
    }
    return shifted;
  }

  /**
   * Maps the keysym onto a spare keycode (reusing one already borrowed for it) and returns it, or
   * undefined when no keycode is free. `inUse` keycodes (held down) are never taken back.
   */
  borrow(keysym: number, inUse: ReadonlySet<number>): number | undefined {
    const existing = this.borrowed.get(keysym);
    if (existing !== undefined) return existing;
    let keycode = this.spare.pop();
    if (keycode === undefined) {
      // Reuse the oldest borrowed keycode that is not held down.
      for (const [sym, kc] of this.borrowed) {
        if (!inUse.has(kc)) {
          this.borrowed.delete(sym);
          keycode = kc;
          break;
        }
      }
    }
    if (keycode === undefined) return undefined;
    // Both levels carry the keysym so a held Shift does not turn it into NoSymbol.
    const syms = new Array<number>(this.perKeycode).fill(NO_SYMBOL);
    syms[0] = keysym;
    if (this.perKeycode > 1) syms[1] = keysym;
    XChangeKeyboardMapping(this.dpy, keycode, this.perKeycode, toKeysymArray(syms), 1);
    this.borrowed.set(keysym, keycode);
    const i = (keycode - this.minKeycode) * this.perKeycode;
    this.keysyms.splice(i, this.perKeycode, ...syms);
    return keycode;
  }

  /** Gives every borrowed keycode back (maps it to NoSymbol again). */
  restore(): void {
    for (const keycode of this.borrowed.values()) {
      const syms = new Array<number>(this.perKeycode).fill(NO_SYMBOL);
      XChangeKeyboardMapping(this.dpy, keycode, this.perKeycode, toKeysymArray(syms), 1);
    }
    this.borrowed.clear();
  }
}
