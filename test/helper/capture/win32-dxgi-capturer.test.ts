// The DXGI capturer's re-init decisions, through a fake device and duplication (fake-dxgi.ts) and a
// fake clock: what is rebuilt after which HRESULT, when DuplicateOutput is retried, what size the
// frames have after a mode change, and when the source gives up. The real calls run under Wine
// (test/win32/desktop-dxgi.test.ts) and on a VM (scripts/windows-vm-check.ps1).
import { beforeEach, describe, expect, test } from 'vitest';
import { CaptureError, type FrameSource } from '../../../src/helper/capture/capturer.js';
import { GIVE_UP_AFTER_MS } from '../../../src/helper/capture/dxgi-recovery.js';
import { Win32DxgiCapturer } from '../../../src/helper/capture/win32-dxgi-capturer.js';
import { DXGI_ERROR, E_ACCESSDENIED, E_NOTIMPL } from '../../../src/native/win32/dxgi.js';
import { Win32Error } from '../../../src/native/win32/win32-error.js';
import { FakeClock } from '../../fixtures/fake-clock.js';
import { DISPLAY1, DISPLAY2, FakeDxgi, FakeFollower } from './fake-dxgi.js';

let fake: FakeDxgi;
let clock: FakeClock;
let follower: FakeFollower;
const lines: { obj: object; msg?: string }[] = [];
const log = {
  info: (obj: object, msg?: string) => void lines.push({ obj, msg }),
  warn: (obj: object, msg?: string) => void lines.push({ obj, msg }),
};

function capturer(): Win32DxgiCapturer {
  return new Win32DxgiCapturer({ api: fake, follower, timers: clock, log });
}

/** The calls made from now on. */
function callsDuring(fn: () => void): string[] {
  const from = fake.calls.length;
  fn();
  return fake.calls.slice(from);
}

beforeEach(() => {
  fake = new FakeDxgi();
  clock = new FakeClock(1_000);
  follower = new FakeFollower(fake.calls);
  lines.length = 0;
});

describe('DXGI capturer: start and steady state', () => {
  test('probes by duplicating the primary output once, then lists the outputs as displays', () => {
    fake.outputs.push({
      name: DISPLAY2,
      rect: { x: -1280, y: 0, width: 1280, height: 1024 },
      adapterIndex: 1,
    });
    const c = capturer();
    expect(fake.calls).toEqual(['sync', 'open 1', 'sync', `duplicate ${DISPLAY1}`]);
    expect(c.displays()).toEqual([
      { index: 0, name: DISPLAY1, x: 0, y: 0, width: 1920, height: 1080, primary: true },
      { index: 1, name: DISPLAY2, x: -1280, y: 0, width: 1280, height: 1024, primary: false },
    ]);
    c.close();
    expect(fake.live).toBe(0);
  });

  test('delivers the whole first frame, then unchanged frames while DXGI times out, and clamped dirty rects', () => {
    const c = capturer();
    const s = c.openFrameSource(0);
    fake.acquires.push({ fill: 0x22 });
    const first = s.grab();
    expect(first).toMatchObject({ width: 1920, height: 1080, stride: 1920 * 4, changed: true, sequence: 1 });
    expect(first.dirty).toEqual([{ x: 0, y: 0, width: 1920, height: 1080 }]);
    expect(first.data[0]).toBe(0x22);
    expect(s.grab()).toMatchObject({ changed: false, dirty: [] });
    fake.acquires.push({ presented: false });
    expect(s.grab()).toMatchObject({ changed: false, dirty: [] });
    fake.acquires.push({ rects: [{ x: 1900, y: -5, width: 100, height: 20 }] });
    expect(s.grab().dirty).toEqual([{ x: 1900, y: 0, width: 20, height: 15 }]);
    s.close();
    c.close();
    expect(fake.live).toBe(0);
  });

  test('E_NOTIMPL from the probe (Wine, Windows 7) throws the Win32Error and leaves nothing open', () => {
    fake.duplicateFailures.push(E_NOTIMPL);
    let err: unknown;
    try {
      capturer();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Win32Error);
    expect((err as Error).message).toBe('IDXGIOutput1::DuplicateOutput failed: HRESULT 0x80004001');
    expect(fake.live).toBe(0);
  });
});

describe('DXGI capturer: recovery', () => {
  let c: Win32DxgiCapturer;
  let s: FrameSource;
  beforeEach(() => {
    c = capturer();
    s = c.openFrameSource(0);
    fake.acquires.push({});
    s.grab();
    lines.length = 0;
  });

  test('ACCESS_LOST releases the chain; the next grab re-enumerates, follows the desktop, duplicates again and sends a whole frame', () => {
    fake.acquires.push(DXGI_ERROR.ACCESS_LOST);
    expect(callsDuring(() => expect(s.grab().changed).toBe(false))).toEqual(['acquire', 'close 1']);
    fake.acquires.push({ rects: [{ x: 0, y: 0, width: 1, height: 1 }] });
    const calls = callsDuring(() =>
      expect(s.grab()).toMatchObject({ changed: true, dirty: [{ x: 0, y: 0, width: 1920, height: 1080 }] }),
    );
    expect(calls).toEqual([
      'sync',
      'open 2',
      'sync',
      `duplicate ${DISPLAY1}`,
      'acquire',
      'staging 1920x1080',
    ]);
    expect(lines.map((l) => l.msg)).toContain('desktop duplication re-created');
  });

  test('a resolution change: frames, staging texture and buffer take the new size, displays() the new rectangle', () => {
    fake.outputs[0]!.rect = { x: 0, y: 0, width: 2560, height: 1440 };
    fake.acquires.push(DXGI_ERROR.ACCESS_LOST);
    s.grab();
    fake.acquires.push({ fill: 0x33 });
    const calls: string[] = [];
    let frame;
    calls.push(...callsDuring(() => (frame = s.grab())));
    expect(frame).toMatchObject({ width: 2560, height: 1440, stride: 2560 * 4, changed: true });
    expect(frame!.data.length).toBe(2560 * 1440 * 4);
    expect(frame!.data[2560 * 1440 * 4 - 1]).toBe(0x33);
    expect(calls).toContain('staging 2560x1440');
    expect(c.displays()[0]).toMatchObject({ width: 2560, height: 1440 });
    expect(s.display).toMatchObject({ width: 2560, height: 1440 });
    expect(fake.live).toBe(3); // the new chain, duplication and staging texture; the old ones released
  });

  test('a texture of another size on the same duplication (DPI or rotation) re-creates staging and buffer', () => {
    fake.acquires.push({ width: 1080, height: 1920 });
    const calls = callsDuring(() =>
      expect(s.grab()).toMatchObject({ width: 1080, height: 1920, changed: true }),
    );
    expect(calls).toEqual(['acquire', 'staging 1080x1920']);
    expect(s.grab().data.length).toBe(1080 * 1920 * 4);
  });

  test.each([
    ['DEVICE_REMOVED', DXGI_ERROR.DEVICE_REMOVED],
    ['DEVICE_RESET', DXGI_ERROR.DEVICE_RESET],
    ['an unexpected HRESULT', 0x80004005 | 0],
  ])('%s from AcquireNextFrame rebuilds the device chain', (_, code) => {
    fake.acquires.push(code);
    s.grab();
    expect(fake.chains[0]!.closed).toBe(true);
    fake.acquires.push({});
    expect(s.grab().changed).toBe(true);
    expect(fake.opened).toBe(2);
  });

  test('DEVICE_REMOVED from the copy (Map) releases the frame first, then rebuilds', () => {
    fake.acquires.push({ failCopy: DXGI_ERROR.DEVICE_REMOVED });
    expect(s.grab().changed).toBe(false);
    expect(fake.chains[0]!.closed).toBe(true);
    fake.acquires.push({});
    expect(s.grab().changed).toBe(true);
  });

  test('IDXGIFactory1::IsCurrent turning false rebuilds the chain before acquiring', () => {
    fake.adaptersChanged();
    fake.acquires.push({});
    const calls = callsDuring(() => expect(s.grab().changed).toBe(true));
    expect(calls.slice(0, 4)).toEqual(['close 1', 'sync', 'open 2', 'sync']);
  });

  test('DuplicateOutput refused: retried 200 ms later twice, the chain rebuilt after the second failure, grabs never wait', async () => {
    fake.acquires.push(DXGI_ERROR.ACCESS_LOST);
    s.grab(); // lost at t=1000: the first re-creation is tried at the next grab
    fake.duplicateFailures.push(E_ACCESSDENIED, E_ACCESSDENIED, E_ACCESSDENIED);
    const at = (): string[] => callsDuring(() => expect(s.grab().changed).toBe(false));
    // The loss was failure 1 (retried at once); then 200, 200 and 500 ms.
    expect(at()).toEqual(['sync', 'open 2', 'sync', `duplicate ${DISPLAY1}`]); // refused once: same chain
    expect(at()).toEqual([]); // not due yet
    await clock.advance(199);
    expect(at()).toEqual([]);
    await clock.advance(1);
    expect(at()).toEqual(['sync', `duplicate ${DISPLAY1}`, 'close 2']); // refused twice: rebuild
    await clock.advance(200);
    expect(at()).toEqual(['sync', 'open 3', 'sync', `duplicate ${DISPLAY1}`]);
    await clock.advance(499);
    expect(at()).toEqual([]);
    await clock.advance(1);
    fake.acquires.push({});
    expect(callsDuring(() => expect(s.grab().changed).toBe(true))).toEqual([
      'sync',
      `duplicate ${DISPLAY1}`,
      'acquire',
      'staging 1920x1080',
    ]);
  });

  test(`gives up with CaptureError('unsupported') after ${GIVE_UP_AFTER_MS} ms without a duplication`, async () => {
    fake.acquires.push(DXGI_ERROR.ACCESS_LOST);
    s.grab();
    fake.duplicateFailures.push(...Array<number>(100).fill(DXGI_ERROR.UNSUPPORTED));
    let err: unknown;
    for (let t = 0; t < 20 && err === undefined; t += 1) {
      try {
        s.grab();
      } catch (e) {
        err = e;
      }
      await clock.advance(500);
    }
    expect(err).toBeInstanceOf(CaptureError);
    expect((err as CaptureError).code).toBe('unsupported');
    expect((err as Error).message).toMatch(
      /unavailable for \d+ ms: IDXGIOutput1::DuplicateOutput failed: HRESULT 0x887A0004/,
    );
    expect(clock.now() - 1_000).toBeGreaterThanOrEqual(GIVE_UP_AFTER_MS);
  });

  test('a duplication lost again right after each re-creation backs off instead of spinning', async () => {
    const opensAt: number[] = [];
    for (let i = 0; i < 40; i += 1) {
      fake.acquires.push(DXGI_ERROR.ACCESS_LOST);
      const before = fake.opened;
      try {
        s.grab();
      } catch {
        break;
      }
      if (fake.opened > before) opensAt.push(clock.now());
      await clock.advance(100);
    }
    // Lost at 1000: re-created at the next grab, then 200, 200, 500 and 1000 ms apart, not once per grab.
    expect(opensAt).toEqual([1100, 1300, 1500, 2000, 3000]);
  });

  test('two sources losing their duplication together cause one rebuild', () => {
    fake.outputs.push({ name: DISPLAY2, rect: { x: 1920, y: 0, width: 1280, height: 1024 } });
    s.close();
    c.close();
    c = capturer();
    const a = c.openFrameSource(0);
    const b = c.openFrameSource(1);
    const opened = fake.opened;
    fake.acquires.push(DXGI_ERROR.ACCESS_LOST);
    a.grab();
    fake.acquires.push({}, {});
    expect(a.grab().changed).toBe(true);
    expect(b.grab().changed).toBe(true);
    expect(fake.opened).toBe(opened + 1);
    c.close();
    expect(fake.live).toBe(0);
  });

  test('a missing output is retried like a refused duplication', () => {
    fake.outputs = [];
    fake.acquires.push(DXGI_ERROR.ACCESS_LOST);
    s.grab();
    expect(s.grab().changed).toBe(false);
    expect(lines.some((l) => (l.obj as { err?: string }).err === `${DISPLAY1} is not attached`)).toBe(true);
  });

  test('close() releases the chain, duplication and staging texture', () => {
    s.close();
    c.close();
    expect(fake.live).toBe(0);
    expect(() => s.grab()).toThrow(CaptureError);
  });
});
