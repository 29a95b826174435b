import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toDesktopPoint, WheelAccumulator } from '../../../src/helper/input/input-injector.js';
import { KNOWN_KEY_CODES, keysymForChar, keysymForCode } from '../../../src/helper/input/x11-keysyms.js';

describe('toDesktopPoint', () => {
  const rect = { x: -1920, y: 100, width: 1920, height: 1080 };

  it('maps 0 to the first pixel and 1 to the last', () => {
    expect(toDesktopPoint(rect, 0, 0)).toEqual({ x: -1920, y: 100 });
    expect(toDesktopPoint(rect, 1, 1)).toEqual({ x: -1, y: 1179 });
    expect(toDesktopPoint(rect, 0.5, 0.5)).toEqual({ x: -960, y: 640 });
  });

  it('always lands inside the rectangle, whatever the input', () => {
    fc.assert(
      fc.property(fc.double(), fc.double(), (x01, y01) => {
        const p = toDesktopPoint(rect, x01, y01);
        expect(p.x).toBeGreaterThanOrEqual(rect.x);
        expect(p.x).toBeLessThan(rect.x + rect.width);
        expect(p.y).toBeGreaterThanOrEqual(rect.y);
        expect(p.y).toBeLessThan(rect.y + rect.height);
      }),
    );
  });
});

describe('WheelAccumulator', () => {
  it('turns 120 into one notch and keeps fractions for later', () => {
    const w = new WheelAccumulator();
    expect(w.add(0, 120)).toEqual({ x: 0, y: 1 });
    expect(w.add(0, -40)).toEqual({ x: 0, y: 0 });
    expect(w.add(0, -40)).toEqual({ x: 0, y: 0 });
    expect(w.add(0, -40)).toEqual({ x: 0, y: -1 });
    expect(w.add(250, 0)).toEqual({ x: 2, y: 0 });
    expect(w.add(-10, 0)).toEqual({ x: 0, y: 0 });
  });

  it('caps one message at 100 notches and ignores non-finite deltas', () => {
    const w = new WheelAccumulator();
    expect(w.add(0, 1e9)).toEqual({ x: 0, y: 100 });
    expect(w.add(Number.NaN, Number.POSITIVE_INFINITY)).toEqual({ x: 0, y: 0 });
  });
});

describe('KeyboardEvent.code → X keysym', () => {
  it('covers letters, digits, punctuation, modifiers, F1–F24, navigation, keypad and media keys', () => {
    expect(keysymForCode('KeyA')).toBe(0x61);
    expect(keysymForCode('KeyZ')).toBe(0x7a);
    expect(keysymForCode('Digit0')).toBe(0x30);
    expect(keysymForCode('Backquote')).toBe(0x60);
    expect(keysymForCode('ShiftRight')).toBe(0xffe2);
    expect(keysymForCode('MetaLeft')).toBe(0xffeb);
    expect(keysymForCode('F1')).toBe(0xffbe);
    expect(keysymForCode('F12')).toBe(0xffc9);
    expect(keysymForCode('F13')).toBe(0xffca);
    expect(keysymForCode('F24')).toBe(0xffd5);
    expect(keysymForCode('PageDown')).toBe(0xff56);
    expect(keysymForCode('NumpadEnter')).toBe(0xff8d);
    expect(keysymForCode('NumLock')).toBe(0xff7f);
    expect(keysymForCode('Numpad7')).toBe(0xffb7);
    expect(keysymForCode('AudioVolumeMute')).toBe(0x1008ff12);
    expect(KNOWN_KEY_CODES.length).toBeGreaterThan(140);
  });

  it('knows nothing about codes outside the table, including Object.prototype names', () => {
    expect(keysymForCode('Fn')).toBeUndefined();
    expect(keysymForCode('constructor')).toBeUndefined();
    expect(keysymForCode('toString')).toBeUndefined();
  });

  it('gives Latin-1 characters their code point and others the Unicode keysym range', () => {
    expect(keysymForChar('a'.codePointAt(0)!)).toBe(0x61);
    expect(keysymForChar('é'.codePointAt(0)!)).toBe(0xe9);
    expect(keysymForChar('→'.codePointAt(0)!)).toBe(0x0100_2192);
    expect(keysymForChar('😀'.codePointAt(0)!)).toBe(0x0101_f600);
    expect(keysymForChar(0x0a)).toBe(0xff0d);
  });
});
