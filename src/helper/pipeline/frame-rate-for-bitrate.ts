/**
 * The frame rate a bitrate can feed at a picture size. Below some bits per pixel per frame x264's
 * picture falls apart (blocks, smeared text); fewer, sharper frames read better on a desktop than many
 * blurred ones. So as the bitrate falls, the encoder's frame rate falls with it, down to a floor.
 *
 * `BITS_PER_PIXEL_FRAME` 0.04: at 1280×720 (36.9 kbit a frame), 3.87 Mb/s feeds 60 fps, 1.5 Mb/s
 * 40 fps, 1 Mb/s 27 fps, 500 kb/s 13 fps. `MIN_FPS` 10: below it typing and pointer motion stop
 * reading as live; under the floor the bitrate thins each frame instead (at 300 kb/s, 720p: 0.033).
 */
export const BITS_PER_PIXEL_FRAME = 0.04;
export const MIN_FPS = 10;

/** min(asked, max(MIN_FPS, floor(bitrate / (width × height × BITS_PER_PIXEL_FRAME)))). */
export function frameRateForBitrate(
  askedFps: number,
  bitrate: number,
  width: number,
  height: number,
): number {
  const pixels = width * height;
  if (!(pixels > 0) || !(bitrate > 0)) return askedFps;
  const fed = Math.floor(bitrate / (pixels * BITS_PER_PIXEL_FRAME));
  return Math.min(askedFps, Math.max(MIN_FPS, fed));
}
