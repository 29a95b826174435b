import { describe, expect, it } from 'vitest';
import { ViewerQueue, ViewerTooSlowError } from '../../../src/api/relay/viewer-queue.js';
import type { RelayFrameHeader } from '../../../src/protocol/relay.js';

/** A frame whose first byte says which it is, `size` bytes long. */
const frame = (id: number, size = 100): Uint8Array => new Uint8Array(size).fill(id);
const video = (keyframe: boolean): RelayFrameHeader => ({ type: 'video', keyframe, timestampUs: 0 });
const control: RelayFrameHeader = { type: 'control', keyframe: false, timestampUs: 0 };

function setup(opts: { maxQueuedBytes?: number; maxDelayMs?: number; maxQueuedText?: number } = {}) {
  let t = 0;
  let asked = 0;
  const q = new ViewerQueue({ ...opts, now: () => t, onKeyframeNeeded: () => asked++ });
  const drain = (): number[] => {
    const out: number[] = [];
    for (let f = q.shift(); f; f = q.shift()) out.push(f[0] ?? -1);
    return out;
  };
  return {
    q,
    drain,
    tick: (ms: number) => (t += ms),
    asked: () => asked,
  };
}

describe('the viewer queue', () => {
  it('passes nothing before the first keyframe, then everything in order', () => {
    const { q, drain } = setup();
    q.push(frame(1), video(false));
    q.push(frame(2), video(true));
    q.push(frame(3), video(false));
    q.push(frame(4), control);
    expect(drain()).toEqual([2, 3, 4]);
    expect(q.stats).toMatchObject({
      forwarded: 3,
      forwardedVideo: 2,
      droppedFrames: 1,
      droppedBytes: 100,
      skips: 0,
    });
  });

  it('drops the queued video and waits for the next keyframe when the video would exceed its bytes', () => {
    const { q, drain, asked } = setup({ maxQueuedBytes: 250 });
    q.push(frame(1), video(true));
    q.push(frame(2), video(false));
    q.push(frame(9), control);
    q.push(frame(3), video(false)); // 300 bytes: over
    expect(asked()).toBe(1);
    expect(q.waitingForKeyframe).toBe(true);
    q.push(frame(4), video(false));
    q.push(frame(5), video(true));
    q.push(frame(6), video(false));
    // The control frame survives the skip; video resumes at the keyframe.
    expect(drain()).toEqual([9, 5, 6]);
    expect(q.stats).toMatchObject({ droppedFrames: 4, skips: 1 });
  });

  it('keeps a viewer that keeps up within bounds: no drop while it drains', () => {
    const { q, drain } = setup({ maxQueuedBytes: 250 });
    q.push(frame(1), video(true));
    for (let i = 2; i < 50; i++) {
      q.push(frame(i), video(false));
      drain();
    }
    expect(q.stats).toMatchObject({ droppedFrames: 0, skips: 0, forwarded: 49 });
  });

  it('skips to the next keyframe once the oldest waiting video frame is maxDelayMs old', () => {
    const { q, drain, tick, asked } = setup({ maxDelayMs: 500 });
    q.push(frame(1), video(true));
    tick(499);
    q.push(frame(2), video(false));
    expect(asked()).toBe(0);
    tick(1);
    q.push(frame(3), video(false));
    expect(asked()).toBe(1);
    q.push(frame(4), video(true));
    expect(drain()).toEqual([4]);
  });

  it('takes a keyframe arriving when the viewer is behind as the new start', () => {
    const { q, drain, asked } = setup({ maxQueuedBytes: 250 });
    q.push(frame(1), video(true));
    q.push(frame(2), video(false));
    q.push(frame(3), video(true)); // over, but a keyframe: nothing after it is lost
    expect(asked()).toBe(1);
    expect(drain()).toEqual([3]);
  });

  it('counts its queued video bytes back down as frames leave', () => {
    const { q } = setup();
    q.push(frame(1, 300), video(true));
    q.push(frame(2, 200), video(false));
    expect(q.queuedVideoBytes).toBe(500);
    q.shift();
    expect(q.queuedVideoBytes).toBe(200);
  });

  it('refuses text beyond its bound: the viewer is too slow to serve', () => {
    const { q } = setup({ maxQueuedText: 2 });
    q.push(frame(1), control);
    q.push(frame(2), control);
    expect(() => q.push(frame(3), control)).toThrow(ViewerTooSlowError);
    q.shift();
    expect(() => q.push(frame(3), control)).not.toThrow();
  });
});
