import { afterEach, describe, expect, it } from 'vitest';
import type { Capturer, CursorState } from '../../../src/helper/capture/capturer.js';
import type { CursorMessage } from '../../../src/helper/desktop/video-source.js';
import { createCursorFeed } from '../../../src/helper/pipeline/cursor-feed.js';
import { silentLogger } from '../../../src/log/logger.js';
import { FakeClock } from '../../fixtures/fake-clock.js';

/** A capturer whose cursor the test moves, counting the reads the feed makes. */
function fakeCapturer(): {
  capturer: Capturer;
  move(x: number, y: number): void;
  reads(): number;
  sources(): { opened: number; closed: number };
} {
  let state: CursorState = {
    x: 10,
    y: 10,
    serial: 1,
    shape: { serial: 1, width: 2, height: 2, hotX: 0, hotY: 0, rgba: new Uint8Array(16) },
  };
  let reads = 0;
  let opened = 0;
  let closed = 0;
  const display = { index: 0, name: 'd', x: 0, y: 0, width: 100, height: 100, primary: true };
  const capturer: Capturer = {
    kind: 'synthetic',
    displays: () => [display],
    openFrameSource: () => {
      throw new Error('not needed');
    },
    openCursorSource: () => {
      opened += 1;
      return {
        read: () => {
          reads += 1;
          const s = state;
          state = { x: s.x, y: s.y, serial: s.serial };
          return s;
        },
        close: () => {
          closed += 1;
        },
      };
    },
    close: () => undefined,
  };
  return {
    capturer,
    move: (x, y) => (state = { ...state, x, y }),
    reads: () => reads,
    sources: () => ({ opened, closed }),
  };
}

describe('cursor feed', () => {
  const closers: (() => void)[] = [];
  afterEach(() => closers.splice(0).forEach((c) => c()));

  it('sends the shape, then positions relative to the display only when they change', async () => {
    const clock = new FakeClock();
    const f = fakeCapturer();
    const feed = createCursorFeed(f.capturer, () => 0, silentLogger, clock);
    closers.push(() => feed.close());
    const got: (CursorMessage & { at: number })[] = [];
    feed.onCursor((m) => got.push({ ...m, at: clock.now() }));
    await clock.advance(300);
    // A cursor still since the start is polled at the idle rate: the first poll is at 100 ms.
    expect(got.map((m) => [m.type, m.at])).toEqual([
      ['cursor_shape', 100],
      ['cursor', 100],
    ]);
    f.move(50, 60);
    await clock.advance(300);
    // It moved 100 ms ago, so the poll runs every 33 ms (100, 133 … 298, 331): the move goes out at 331.
    expect(got.at(-1)).toMatchObject({ type: 'cursor', x: 50, y: 60, visible: true, at: 331 });
    expect(got.filter((m) => m.type === 'cursor')).toHaveLength(2);
  });

  it('polls fast while the cursor moves and slowly once it has been still for a second', async () => {
    const clock = new FakeClock();
    const f = fakeCapturer();
    const feed = createCursorFeed(f.capturer, () => 0, silentLogger, clock);
    closers.push(() => feed.close());
    feed.onCursor(() => undefined);
    let x = 0;
    let moving = true;
    const move = (): void => {
      if (!moving) return;
      f.move(++x % 100, 5);
      clock.setTimeout(move, 20);
    };
    move();
    await clock.advance(100);
    const readsMoving = f.reads();
    await clock.advance(660);
    expect(f.reads() - readsMoving).toBe(20); // every 33 ms
    moving = false;
    await clock.advance(1300); // the fast rate holds for a second after the last change
    const readsStill = f.reads();
    await clock.advance(600);
    expect(f.reads() - readsStill).toBe(6); // every 100 ms
  });

  it('closes its cursor source (an X connection of its own) when it is closed, and stops polling', async () => {
    const clock = new FakeClock();
    const f = fakeCapturer();
    const feed = createCursorFeed(f.capturer, () => 0, silentLogger, clock);
    feed.onCursor(() => undefined);
    await clock.advance(200);
    expect(f.sources()).toEqual({ opened: 1, closed: 0 });
    feed.close();
    feed.close();
    expect(f.sources()).toEqual({ opened: 1, closed: 1 });
    const reads = f.reads();
    await clock.advance(1000);
    expect(f.reads()).toBe(reads);
    expect(clock.pending).toEqual([]);
  });
});
