import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCapturer } from '../../../src/helper/capture/index.js';
import { readStamp, writeStamp } from '../../../src/helper/capture/frame-stamp.js';

describe('frame stamp', () => {
  it('reads back any frame number and timestamp it wrote', () => {
    const width = 640;
    const height = 64;
    const data = new Uint8Array(width * 4 * height);
    fc.assert(
      fc.property(fc.nat(2 ** 32 - 1), fc.nat(2 ** 48 - 1), (frame, timestampUs) => {
        writeStamp(data, width, width * 4, { frame, timestampUs });
        expect(readStamp(data, width, height, width * 4)).toEqual({ frame, timestampUs });
      }),
    );
  });

  it('survives noise of ±60 per channel', () => {
    const width = 512;
    const data = new Uint8Array(width * 4 * 48);
    writeStamp(data, width, width * 4, { frame: 123456, timestampUs: 987654321 });
    for (let i = 0; i < data.length; i++) {
      const v = data[i] ?? 0;
      data[i] = v > 128 ? v - ((i * 7919) % 60) : v + ((i * 104729) % 60);
    }
    expect(readStamp(data, width, 48, width * 4)).toEqual({ frame: 123456, timestampUs: 987654321 });
  });

  it('rejects a picture with no stamp', () => {
    const width = 640;
    const data = new Uint8Array(width * 4 * 64).fill(200);
    expect(readStamp(data, width, 64, width * 4)).toBeNull();
  });
});

describe('synthetic capturer', () => {
  it('lists its displays side by side', async () => {
    const c = await createCapturer({
      kind: 'synthetic',
      syntheticDisplays: [
        { width: 640, height: 360 },
        { width: 320, height: 240 },
      ],
    });
    expect(c.displays()).toEqual([
      { index: 0, name: 'synthetic-0', x: 0, y: 0, width: 640, height: 360, primary: true },
      { index: 1, name: 'synthetic-1', x: 640, y: 0, width: 320, height: 240, primary: false },
    ]);
  });

  it('stamps consecutive frame numbers and the capture time into moving frames', async () => {
    const c = await createCapturer({ kind: 'synthetic', syntheticDisplays: [{ width: 640, height: 360 }] });
    const source = c.openFrameSource(0);
    const stamps = [1, 2, 3].map(() => {
      const f = source.grab();
      expect(f.changed).toBe(true);
      return { ...readStamp(f.data, f.width, f.height, f.stride), ts: f.timestampUs };
    });
    expect(stamps.map((s) => s.frame)).toEqual([1, 2, 3]);
    for (const s of stamps) expect(s.timestampUs).toBe(s.ts);
  });

  it('reports a static pattern as unchanged after the first frame', async () => {
    const c = await createCapturer({ kind: 'synthetic', syntheticMotion: 'static' });
    const source = c.openFrameSource(0);
    expect(source.grab().changed).toBe(true);
    expect(source.grab().changed).toBe(false);
  });
});
