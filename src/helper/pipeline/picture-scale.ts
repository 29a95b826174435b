/**
 * Resolution as the last step down on a thin link. The frame rate falls with the bitrate first
 * (frame-rate-for-bitrate.ts); once it is at its floor and each frame still gets fewer bits per pixel
 * than that module's threshold, text turns to blocks. Half the width and height gives each frame four
 * times the bits per pixel, and a sharp picture scaled up by the viewer reads better than a smeared
 * one at full size.
 *
 * `auto` halves when bitrate < width × height × BITS_PER_PIXEL_FRAME × MIN_FPS (1280×720: 369 kb/s,
 * 1920×1080: 829 kb/s) and goes back to full size only at 1.5 times that (553 kb/s, 1.24 Mb/s): each
 * change costs a keyframe, so the two thresholds keep a bitrate wandering around one of them from
 * flipping the size. Pictures whose half would be narrower than MIN_SCALED_WIDTH stay as they are.
 * `full` never scales. The choice is the helper's `--resolution` (design/MEDIA.md, "Lower resolution").
 */
import { BITS_PER_PIXEL_FRAME, MIN_FPS } from './frame-rate-for-bitrate.js';

export type ResolutionMode = 'full' | 'auto';
export const RESOLUTION_MODES: readonly ResolutionMode[] = ['auto', 'full'];
/** 1 (full size) or 2 (half the width and height). */
export type PictureScale = 1 | 2;

/** Back to full size at this multiple of the bitrate that halved the picture. */
export const FULL_SIZE_MARGIN = 1.5;
/** Narrower halves are not worth it: a 640×360 desktop is already hard to read. */
export const MIN_SCALED_WIDTH = 320;

/** The bitrate under which `auto` halves a picture of this size. */
export function halvingBitrate(width: number, height: number): number {
  return width * height * BITS_PER_PIXEL_FRAME * MIN_FPS;
}

export function pictureScaleFor(
  mode: ResolutionMode,
  bitrate: number,
  width: number,
  height: number,
  current: PictureScale,
): PictureScale {
  if (mode === 'full' || !(bitrate > 0) || scaledSize(width, height, 2).width < MIN_SCALED_WIDTH) return 1;
  const below = halvingBitrate(width, height);
  if (current === 2) return bitrate < below * FULL_SIZE_MARGIN ? 2 : 1;
  return bitrate < below ? 2 : 1;
}

/** The encoded size at a scale: halves rounded down to even numbers, as H.264 4:2:0 needs. */
export function scaledSize(
  width: number,
  height: number,
  scale: PictureScale,
): { width: number; height: number } {
  if (scale === 1) return { width, height };
  return { width: Math.floor(width / 4) * 2, height: Math.floor(height / 4) * 2 };
}
