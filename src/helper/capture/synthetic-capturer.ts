/**
 * A capturer with no screen behind it: each grab draws the next frame of a pattern and stamps its
 * frame number and capture time into the pixels (see frame-stamp.ts), so tests and benchmarks can
 * measure loss and latency after an encode/decode round trip. Runs anywhere, needs nothing installed.
 */
import {
  CaptureError,
  type CapturedFrame,
  type Capturer,
  type CursorSource,
  type CursorState,
  type DisplayInfo,
  type FrameSource,
} from './capturer.js';
import { monotonicUs } from './clock.js';
import { writeStamp } from './frame-stamp.js';
import { SyntheticPattern, type SyntheticMotion } from './synthetic-pattern.js';

export class SyntheticCapturer implements Capturer {
  readonly kind = 'synthetic' as const;
  private readonly list: DisplayInfo[];

  constructor(
    sizes: { width: number; height: number }[] = [{ width: 1280, height: 720 }],
    private readonly motion: SyntheticMotion = 'full',
  ) {
    let x = 0;
    this.list = sizes.map((s, index) => {
      const d = {
        index,
        name: `synthetic-${index}`,
        x,
        y: 0,
        width: s.width,
        height: s.height,
        primary: index === 0,
      };
      x += s.width;
      return d;
    });
  }

  displays(): DisplayInfo[] {
    return this.list.map((d) => ({ ...d }));
  }

  openFrameSource(displayIndex: number): FrameSource {
    const display = this.list[displayIndex];
    if (!display)
      throw new CaptureError('no_such_display', `no display ${displayIndex} (have ${this.list.length})`);
    return new SyntheticFrameSource({ ...display }, this.motion);
  }

  openCursorSource(): CursorSource {
    return new SyntheticCursorSource();
  }

  close(): void {}
}

export class SyntheticFrameSource implements FrameSource {
  private readonly pattern: SyntheticPattern;
  private readonly data: Uint8Array;
  private readonly stride: number;
  private sequence = 0;
  /** Frame number stamped into the pixels: counts changed frames only. */
  private frame = 0;

  constructor(
    readonly display: DisplayInfo,
    motion: SyntheticMotion = 'full',
  ) {
    this.pattern = new SyntheticPattern(display.width, display.height, motion);
    this.stride = display.width * 4;
    this.data = new Uint8Array(this.stride * display.height);
  }

  grab(): CapturedFrame {
    this.sequence += 1;
    const changed = this.sequence === 1 || this.pattern.motion !== 'static';
    const timestampUs = monotonicUs();
    if (changed) {
      this.frame += 1;
      this.pattern.draw(this.data, this.stride, this.frame);
      writeStamp(this.data, this.display.width, this.stride, { frame: this.frame, timestampUs });
    }
    const { width, height } = this.display;
    return {
      data: this.data,
      width,
      height,
      stride: this.stride,
      format: 'BGRA',
      timestampUs,
      changed,
      dirty: changed ? [{ x: 0, y: 0, width, height }] : [],
      sequence: this.sequence,
    };
  }

  close(): void {}
}

/** A cursor that moves along a diagonal, with a fixed 8×8 white square shape. */
class SyntheticCursorSource implements CursorSource {
  private n = 0;

  read(): CursorState {
    this.n += 1;
    const state: CursorState = { x: this.n % 500, y: this.n % 300, serial: 1 };
    if (this.n === 1) {
      state.shape = {
        serial: 1,
        width: 8,
        height: 8,
        hotX: 0,
        hotY: 0,
        rgba: new Uint8Array(8 * 8 * 4).fill(255),
      };
    }
    return state;
  }

  close(): void {}
}
