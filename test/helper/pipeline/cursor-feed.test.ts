import { afterEach, describe, expect, it } from 'vitest';
import type { Capturer, CursorState } from '../../../src/helper/capture/capturer.js';
import type { CursorMessage } from '../../../src/helper/desktop/video-source.js';
import { createCursorFeed } from '../../../src/helper/pipeline/cursor-feed.js';
import { silentLogger } from '../../../src/log/logger.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A capturer whose cursor the test moves, counting the reads the feed makes. */
function fakeCapturer(): { capturer: Capturer; move(x: number, y: number): void; reads(): number } {
  let state: CursorState = {
    x: 10,
    y: 10,
    serial: 1,
    shape: { serial: 1, width: 2, height: 2, hotX: 0, hotY: 0, rgba: new Uint8Array(16) },
  };
  let reads = 0;
  const display = { index: 0, name: 'd', x: 0, y: 0, width: 100, height: 100, primary: true };
  const capturer: Capturer = {
    kind: 'synthetic',
    displays: () => [display],
    openFrameSource: () => {
      throw new Error('not needed');
    },
    openCursorSource: () => ({
      read: () => {
        reads += 1;
        const s = state;
        state = { x: s.x, y: s.y, serial: s.serial };
        return s;
      },
      close: () => undefined,
    }),
    close: () => undefined,
  };
  return { capturer, move: (x, y) => (state = { ...state, x, y }), reads: () => reads };
}

describe('cursor feed', () => {
  const closers: (() => void)[] = [];
  afterEach(() => closers.splice(0).forEach((c) => c()));

  it('sends the shape, then positions relative to the display only when they change', async () => {
    const f = fakeCapturer();
    const feed = createCursorFeed(f.capturer, () => 0, silentLogger);
    closers.push(() => feed.close());
    const got: CursorMessage[] = [];
    feed.onCursor((m) => got.push(m));
    await sleep(300);
    expect(got.map((m) => m.type)).toEqual(['cursor_shape', 'cursor']);
    f.move(50, 60);
    await sleep(300);
    expect(got.at(-1)).toMatchObject({ type: 'cursor', x: 50, y: 60, visible: true });
    expect(got.filter((m) => m.type === 'cursor')).toHaveLength(2);
  });

  it('polls fast while the cursor moves and slowly once it has been still for a second', async () => {
    const f = fakeCapturer();
    const feed = createCursorFeed(f.capturer, () => 0, silentLogger);
    closers.push(() => feed.close());
    feed.onCursor(() => undefined);
    let x = 0;
    const mover = setInterval(() => f.move(++x % 100, 5), 20);
    await sleep(100);
    const movingFrom = f.reads();
    await sleep(600);
    const moving = f.reads() - movingFrom;
    clearInterval(mover);
    await sleep(1300); // the fast rate holds for a second after the last change
    const stillFrom = f.reads();
    await sleep(600);
    const still = f.reads() - stillFrom;
    // 600 ms at 33 ms is ~18 reads, at 100 ms ~6 (timers on a busy machine run late, never early).
    expect(moving).toBeGreaterThanOrEqual(10);
    expect(still).toBeLessThanOrEqual(7);
    expect(still).toBeLessThan(moving);
  });
});
