import { describe, expect, it } from 'vitest';
import { DOM_DELTA_LINE, DOM_DELTA_PAGE, DOM_DELTA_PIXEL, wheelToProtocol } from '../../src/viewer/wheel.js';

describe('wheelToProtocol', () => {
  it("turns one Chromium notch (100 px) into one protocol notch (120), keeping the DOM's signs", () => {
    expect(wheelToProtocol({ deltaX: 0, deltaY: 100, deltaMode: DOM_DELTA_PIXEL })).toEqual({
      dx: 0,
      dy: 120,
    });
    expect(wheelToProtocol({ deltaX: 0, deltaY: -100, deltaMode: DOM_DELTA_PIXEL })).toEqual({
      dx: 0,
      dy: -120,
    });
    expect(wheelToProtocol({ deltaX: -100, deltaY: 0, deltaMode: DOM_DELTA_PIXEL })).toEqual({
      dx: -120,
      dy: 0,
    });
  });

  it('turns three lines (a Firefox notch) into one notch', () => {
    expect(wheelToProtocol({ deltaX: 0, deltaY: 3, deltaMode: DOM_DELTA_LINE })).toEqual({ dx: 0, dy: 120 });
    expect(wheelToProtocol({ deltaX: 0, deltaY: 1, deltaMode: DOM_DELTA_LINE })).toEqual({ dx: 0, dy: 40 });
  });

  it('turns one page into one notch', () => {
    expect(wheelToProtocol({ deltaX: 0, deltaY: -1, deltaMode: DOM_DELTA_PAGE })).toEqual({
      dx: 0,
      dy: -120,
    });
  });

  it('keeps small trackpad deltas as fractions of a notch', () => {
    expect(wheelToProtocol({ deltaX: 0, deltaY: 5, deltaMode: DOM_DELTA_PIXEL })).toEqual({ dx: 0, dy: 6 });
  });

  it('sends nothing for a zero or sub-unit delta', () => {
    expect(wheelToProtocol({ deltaX: 0, deltaY: 0, deltaMode: DOM_DELTA_PIXEL })).toBeUndefined();
    expect(wheelToProtocol({ deltaX: 0.2, deltaY: -0.3, deltaMode: DOM_DELTA_PIXEL })).toBeUndefined();
  });

  it("clamps a huge delta to the protocol's bound and ignores non-finite input", () => {
    expect(wheelToProtocol({ deltaX: 0, deltaY: 1e9, deltaMode: DOM_DELTA_PIXEL })).toEqual({
      dx: 0,
      dy: 12_000,
    });
    expect(wheelToProtocol({ deltaX: Number.NaN, deltaY: 100, deltaMode: DOM_DELTA_PIXEL })).toEqual({
      dx: 0,
      dy: 120,
    });
  });
});
