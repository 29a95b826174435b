import { describe, expect, it } from 'vitest';
import { clampPoint, contentRect, displayToClient, normalisePoint } from '../../src/viewer/content-rect.js';

describe('contentRect', () => {
  it('letterboxes a 16:9 video in a taller box: full width, equal bars above and below', () => {
    const rect = contentRect({ left: 0, top: 40, width: 1366, height: 900 }, 1280, 720)!;
    expect(rect.width).toBe(1366);
    expect(rect.height).toBeCloseTo((1366 * 720) / 1280, 9);
    expect(rect.left).toBe(0);
    expect(rect.top - 40).toBeCloseTo(40 + 900 - (rect.top + rect.height), 9);
  });

  it('pillarboxes a 16:9 video in a box only slightly wider than 16:9', () => {
    // 1366/1280 > 728/720: the height limits, so the bars are left and right.
    const rect = contentRect({ left: 0, top: 40, width: 1366, height: 728 }, 1280, 720)!;
    expect(rect.width / rect.height).toBeCloseTo(1280 / 720, 9);
    expect(rect.height).toBe(728);
    expect(rect.top).toBe(40);
    expect(rect.left).toBeCloseTo((1366 - rect.width) / 2, 9);
  });

  it('pillarboxes a portrait video: bars left and right, full height, centred', () => {
    const rect = contentRect({ left: 0, top: 0, width: 1000, height: 500 }, 720, 1280)!;
    expect(rect.height).toBe(500);
    expect(rect.width).toBeCloseTo(281.25, 9);
    expect(rect.left).toBeCloseTo((1000 - 281.25) / 2, 9);
    expect(rect.top).toBe(0);
  });

  it('fills the box exactly when the aspects match', () => {
    expect(contentRect({ left: 5, top: 7, width: 1920, height: 1080 }, 1280, 720)).toEqual({
      left: 5,
      top: 7,
      width: 1920,
      height: 1080,
    });
  });

  it('is undefined before the video size is known or when the box is empty', () => {
    expect(contentRect({ left: 0, top: 0, width: 800, height: 600 }, 0, 0)).toBeUndefined();
    expect(contentRect({ left: 0, top: 0, width: 0, height: 600 }, 1280, 720)).toBeUndefined();
  });
});

describe('normalisePoint', () => {
  const rect = { left: 100, top: 50, width: 800, height: 450 };

  it('maps the content rectangle onto 0..1 in both axes', () => {
    expect(normalisePoint(rect, 100, 50)).toEqual({ x: 0, y: 0 });
    expect(normalisePoint(rect, 900, 500)).toEqual({ x: 1, y: 1 });
    expect(normalisePoint(rect, 500, 275)).toEqual({ x: 0.5, y: 0.5 });
  });

  it('ignores points over the bars on every side', () => {
    expect(normalisePoint(rect, 99, 200)).toBeUndefined();
    expect(normalisePoint(rect, 901, 200)).toBeUndefined();
    expect(normalisePoint(rect, 300, 49)).toBeUndefined();
    expect(normalisePoint(rect, 300, 501)).toBeUndefined();
  });

  it('clampPoint pins a drag that left the video to the nearest edge', () => {
    expect(clampPoint(rect, 0, 1000)).toEqual({ x: 0, y: 1 });
    expect(clampPoint(rect, 2000, -5)).toEqual({ x: 1, y: 0 });
  });
});

describe('displayToClient', () => {
  it('scales remote display pixels onto the content rectangle', () => {
    const rect = { left: 10, top: 20, width: 960, height: 540 };
    expect(displayToClient(rect, 1920, 1080, 1920, 1080)).toEqual({ x: 970, y: 560, scale: 0.5 });
    expect(displayToClient(rect, 1920, 1080, 0, 0)).toEqual({ x: 10, y: 20, scale: 0.5 });
  });
});
