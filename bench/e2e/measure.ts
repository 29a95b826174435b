/**
 * The measuring arithmetic of the glass-to-glass benchmark, free of DOM and Node APIs so that it runs
 * both in Node (tests, report) and bundled into the page (see page-probe.ts).
 *
 * Times in the stamp are wall-clock microseconds (`performance.timeOrigin + performance.now()`), kept
 * modulo 2^48 because the stamp has 48 bits for them; the page compares with its own wall clock, on
 * the same machine, modulo the same.
 */
import { readStamp, type FrameStamp } from '../../src/helper/capture/frame-stamp.js';

export const STAMP_MODULUS_US = 2 ** 48;

/** The value to write into a stamp for a wall-clock time in ms. */
export function stampWallUs(wallMs: number): number {
  return Math.round(wallMs * 1000) % STAMP_MODULUS_US;
}

/**
 * Milliseconds from a stamp's time to `wallMs`, taking the 48-bit wrap into account. A stamp up to
 * half the modulus in the future reads as a negative latency (clocks that disagree), not as years.
 */
export function latencyMs(stampUs: number, wallMs: number): number {
  let d = (Math.round(wallMs * 1000) - stampUs) % STAMP_MODULUS_US;
  if (d < 0) d += STAMP_MODULUS_US;
  if (d >= STAMP_MODULUS_US / 2) d -= STAMP_MODULUS_US;
  return d / 1000;
}

/** Reads a stamp from RGBA pixels as a canvas gives them (`getImageData`): rows of width × 4 bytes. */
export function readStampRgba(
  data: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
): FrameStamp | null {
  // readStamp averages the first three channels of each pixel, so RGBA and BGRA read the same.
  const bytes =
    data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return readStamp(bytes, width, height, width * 4);
}

export interface Summary {
  n: number;
  median: number;
  p95: number;
  min: number;
  max: number;
}

/** Nearest-rank percentile of an ascending sample. */
export function percentileOf(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: percentileOf(sorted, 50),
    p95: percentileOf(sorted, 95),
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/**
 * What a viewer displayed during one phase: every distinct stamped frame counts once, at the first
 * time it was seen; repeats of the same frame (a poll that found nothing new) are ignored.
 */
export class DisplayLog {
  readonly latencies: number[] = [];
  /** Stamp → the frame's last packet received (video only): the agent's and the network's share. */
  readonly arrivals: number[] = [];
  /** When each distinct frame was displayed (wall ms): the gaps between them are the freezes. */
  readonly shownAt: number[] = [];
  private lastFrame = -1;
  private frames = 0;
  private unreadable = 0;
  private firstAt = Number.NaN;
  private lastAt = Number.NaN;
  private firstFrame = -1;

  /**
   * One look at the screen at wall time `wallMs`; `stamp` null when no stamp could be read.
   * `receivedWallMs`, when the viewer knows it, is when the frame's data arrived.
   */
  record(stamp: FrameStamp | null, wallMs: number, receivedWallMs?: number): boolean {
    if (!stamp) {
      this.unreadable += 1;
      return false;
    }
    if (stamp.frame === this.lastFrame) return false;
    this.lastFrame = stamp.frame;
    this.frames += 1;
    if (Number.isNaN(this.firstAt)) {
      this.firstAt = wallMs;
      this.firstFrame = stamp.frame;
    }
    this.lastAt = wallMs;
    this.latencies.push(latencyMs(stamp.timestampUs, wallMs));
    this.shownAt.push(wallMs);
    if (receivedWallMs !== undefined) this.arrivals.push(latencyMs(stamp.timestampUs, receivedWallMs));
    return true;
  }

  /** Distinct frames displayed per second over `seconds`. */
  fps(seconds: number): number {
    return seconds > 0 ? this.frames / seconds : Number.NaN;
  }

  /** Frames the painter made per second between the first and the last frame seen (shown or not). */
  sourceFps(): number {
    return this.lastAt > this.firstAt
      ? ((this.lastFrame - this.firstFrame) * 1000) / (this.lastAt - this.firstAt)
      : Number.NaN;
  }

  snapshot(): {
    frames: number;
    unreadable: number;
    latencies: number[];
    arrivals: number[];
    shownAt: number[];
    firstAt: number;
    lastAt: number;
    sourceFps: number;
  } {
    return {
      sourceFps: this.sourceFps(),
      frames: this.frames,
      unreadable: this.unreadable,
      latencies: [...this.latencies],
      arrivals: [...this.arrivals],
      shownAt: [...this.shownAt],
      firstAt: this.firstAt,
      lastAt: this.lastAt,
    };
  }
}
