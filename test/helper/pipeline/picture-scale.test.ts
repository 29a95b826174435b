/** When `auto` halves the picture and when it gives the full size back. */
import { describe, expect, it } from 'vitest';
import {
  FULL_SIZE_MARGIN,
  halvingBitrate,
  pictureScaleFor,
  scaledSize,
} from '../../../src/helper/pipeline/picture-scale.js';

describe('pictureScaleFor', () => {
  it('halves 720p below 369 kb/s and goes back to full size only at 1.5 times that', () => {
    const below = halvingBitrate(1280, 720);
    expect(Math.round(below)).toBe(368_640);
    expect(pictureScaleFor('auto', 1_000_000, 1280, 720, 1)).toBe(1);
    expect(pictureScaleFor('auto', 370_000, 1280, 720, 1)).toBe(1);
    expect(pictureScaleFor('auto', 360_000, 1280, 720, 1)).toBe(2);
    // Halved, it stays halved in the band between the two thresholds…
    expect(pictureScaleFor('auto', 370_000, 1280, 720, 2)).toBe(2);
    expect(pictureScaleFor('auto', below * FULL_SIZE_MARGIN - 1, 1280, 720, 2)).toBe(2);
    // …and only at the upper one is full size worth its keyframe again.
    expect(pictureScaleFor('auto', below * FULL_SIZE_MARGIN, 1280, 720, 2)).toBe(1);
  });

  it('never scales with `full`, nor a picture whose half would be too small to read', () => {
    expect(pictureScaleFor('full', 100_000, 1920, 1080, 1)).toBe(1);
    expect(pictureScaleFor('full', 100_000, 1920, 1080, 2)).toBe(1);
    expect(pictureScaleFor('auto', 10_000, 600, 400, 1)).toBe(1);
    expect(pictureScaleFor('auto', 10_000, 640, 480, 1)).toBe(2);
  });

  it('rounds halves down to even sizes', () => {
    expect(scaledSize(1366, 768, 2)).toEqual({ width: 682, height: 384 });
    expect(scaledSize(1920, 1080, 2)).toEqual({ width: 960, height: 540 });
    expect(scaledSize(1366, 768, 1)).toEqual({ width: 1366, height: 768 });
  });
});
