/**
 * Where the video's pixels actually are inside the box the stage gives it, and the mapping between
 * that rectangle and the remote display. DOM-free so the letterbox maths is unit-tested directly.
 */

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface NormalisedPoint {
  /** 0 is the left edge of the remote display, 1 the right edge. */
  x: number;
  /** 0 is the top edge, 1 the bottom edge. */
  y: number;
}

/**
 * The largest rectangle with the video's aspect that fits `box`, centred: bars left and right
 * (pillarbox) or above and below (letterbox). Undefined until the video's size is known.
 */
export function contentRect(box: Rect, videoWidth: number, videoHeight: number): Rect | undefined {
  if (!(videoWidth > 0 && videoHeight > 0 && box.width > 0 && box.height > 0)) return undefined;
  const scale = Math.min(box.width / videoWidth, box.height / videoHeight);
  const width = videoWidth * scale;
  const height = videoHeight * scale;
  return {
    left: box.left + (box.width - width) / 2,
    top: box.top + (box.height - height) / 2,
    width,
    height,
  };
}

const clamp01 = (v: number): number => Math.min(1, Math.max(0, v));

/**
 * A client (CSS pixel) position as a fraction of the content rectangle, or undefined when it lies on
 * a bar: a click on the black bars must not land on the remote screen's edge.
 */
export function normalisePoint(rect: Rect, clientX: number, clientY: number): NormalisedPoint | undefined {
  const rx = clientX - rect.left;
  const ry = clientY - rect.top;
  if (rx < 0 || ry < 0 || rx > rect.width || ry > rect.height || rect.width <= 0 || rect.height <= 0) {
    return undefined;
  }
  return { x: clamp01(rx / rect.width), y: clamp01(ry / rect.height) };
}

/** Like normalisePoint but pinned to the nearest edge: used while a drag that began inside leaves it. */
export function clampPoint(rect: Rect, clientX: number, clientY: number): NormalisedPoint {
  if (rect.width <= 0 || rect.height <= 0) return { x: 0, y: 0 };
  return { x: clamp01((clientX - rect.left) / rect.width), y: clamp01((clientY - rect.top) / rect.height) };
}

/**
 * A position in remote display pixels (as the `cursor` channel reports it) placed on the content
 * rectangle; `scale` is CSS pixels per remote pixel, for sizing the cursor image the same way.
 */
export function displayToClient(
  rect: Rect,
  displayWidth: number,
  displayHeight: number,
  px: number,
  py: number,
): { x: number; y: number; scale: number } {
  const scale = displayWidth > 0 ? rect.width / displayWidth : 1;
  const scaleY = displayHeight > 0 ? rect.height / displayHeight : scale;
  return { x: rect.left + px * scale, y: rect.top + py * scaleY, scale };
}
