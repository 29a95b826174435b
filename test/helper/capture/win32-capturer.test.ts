// The Win32 capturer's choice between DXGI and GDI, with fake backends and a fake clock: GDI when the
// DXGI probe fails, DXGI probed again after a backoff and at a desktop switch, GDI when a DXGI source
// gives up, each switch logged once, sources kept on their display by name.
import { beforeEach, describe, expect, test } from 'vitest';
import {
  CaptureError,
  type CapturedFrame,
  type CursorSource,
  type DisplayInfo,
  type FrameSource,
} from '../../../src/helper/capture/capturer.js';
import {
  REPROBE_DELAYS_MS,
  Win32Capturer,
  type Win32Backend,
} from '../../../src/helper/capture/win32-capturer.js';
import { FakeClock } from '../../fixtures/fake-clock.js';
import { FakeFollower } from './fake-dxgi.js';

const D1: DisplayInfo = {
  index: 0,
  name: '\\\\.\\DISPLAY1',
  x: 0,
  y: 0,
  width: 1920,
  height: 1080,
  primary: true,
};
const D2: DisplayInfo = {
  index: 1,
  name: '\\\\.\\DISPLAY2',
  x: 1920,
  y: 0,
  width: 1280,
  height: 1024,
  primary: false,
};

class FakeBackend implements Win32Backend {
  closed = false;
  readonly sources: FakeSource[] = [];
  /** Thrown by the sources' next grab (a DXGI source giving up). */
  grabError: Error | undefined;
  constructor(
    readonly method: 'dxgi' | 'gdi',
    readonly list: DisplayInfo[] = [D1, D2],
  ) {}
  displays(): DisplayInfo[] {
    return this.list;
  }
  openFrameSource(i: number): FrameSource {
    const s = new FakeSource(this, this.list[i]!);
    this.sources.push(s);
    return s;
  }
  close(): void {
    this.closed = true;
  }
}

class FakeSource implements FrameSource {
  closed = false;
  grabs = 0;
  constructor(
    private readonly backend: FakeBackend,
    readonly display: DisplayInfo,
  ) {}
  grab(): CapturedFrame {
    if (this.backend.grabError) throw this.backend.grabError;
    this.grabs += 1;
    return {
      data: new Uint8Array(4),
      width: 1,
      height: 1,
      stride: 4,
      format: 'BGRX',
      timestampUs: 0,
      changed: true,
      sequence: this.grabs,
      dirty: [],
    };
  }
  close(): void {
    this.closed = true;
  }
}

let clock: FakeClock;
let follower: FakeFollower;
let dxgiOk: boolean;
let dxgiOpened: FakeBackend[];
let gdiOpened: FakeBackend[];
let lines: { level: string; obj: object; msg?: string }[];

function make(): Win32Capturer {
  return new Win32Capturer({
    follower,
    timers: clock,
    log: {
      info: (obj, msg) => void lines.push({ level: 'info', obj, msg }),
      warn: (obj, msg) => void lines.push({ level: 'warn', obj, msg }),
    },
    openDxgi: () => {
      if (!dxgiOk) throw new Error('IDXGIOutput1::DuplicateOutput failed: HRESULT 0x80004001');
      const b = new FakeBackend('dxgi');
      dxgiOpened.push(b);
      return b;
    },
    openGdi: () => {
      const b = new FakeBackend('gdi');
      gdiOpened.push(b);
      return b;
    },
    openCursor: () => ({ read: () => ({ x: 0, y: 0, serial: 0 }), close: () => undefined }) as CursorSource,
  });
}

beforeEach(() => {
  clock = new FakeClock(0);
  follower = new FakeFollower();
  dxgiOk = true;
  dxgiOpened = [];
  gdiOpened = [];
  lines = [];
});

describe('Win32 capturer: choosing DXGI or GDI', () => {
  test('uses DXGI when the probe succeeds, logs the choice once and never probes again', async () => {
    const c = make();
    expect(c.method).toBe('dxgi');
    const s = c.openFrameSource(1);
    for (let i = 0; i < 10; i += 1) {
      s.grab();
      await clock.advance(60_000);
    }
    expect(dxgiOpened).toHaveLength(1);
    expect(gdiOpened).toHaveLength(0);
    expect(lines.map((l) => l.msg)).toEqual(['capturing with DXGI desktop duplication']);
    expect(s.display).toBe(D2);
    c.close();
    expect(follower.closed).toBe(true);
  });

  test('falls back to GDI when the probe fails, says why once, and probes again after the backoff', async () => {
    dxgiOk = false;
    const c = make();
    expect(c.method).toBe('gdi');
    expect(lines).toEqual([
      {
        level: 'warn',
        obj: { reason: 'IDXGIOutput1::DuplicateOutput failed: HRESULT 0x80004001' },
        msg: 'DXGI desktop duplication unavailable; capturing with GDI',
      },
    ]);
    const s = c.openFrameSource(0);
    // Probes fail at 5, 15, 45, 105 and 165 s: the choice stays GDI and nothing more is logged.
    for (let t = 0; t < 170_000; t += 1_000) {
      s.grab();
      await clock.advance(1_000);
    }
    expect(lines).toHaveLength(1);
    expect(dxgiOpened).toHaveLength(0);

    // DXGI works again: the next probe switches, the source moves over to DXGI, logged once.
    dxgiOk = true;
    await clock.advance(60_000);
    s.grab();
    expect(c.method).toBe('dxgi');
    expect(gdiOpened[0]!.closed).toBe(true);
    expect(gdiOpened[0]!.sources[0]!.closed).toBe(true);
    expect(dxgiOpened[0]!.sources[0]!.display).toBe(D1);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'DXGI desktop duplication unavailable; capturing with GDI'],
      ['info', 'DXGI desktop duplication available again; capturing with DXGI'],
    ]);
    c.close();
  });

  test('probes at the backoff times: 5 s, then 10, 30 and 60 s apart', async () => {
    dxgiOk = false;
    let probes = 0;
    const at: number[] = [];
    const c = new Win32Capturer({
      follower,
      timers: clock,
      openDxgi: () => {
        probes += 1;
        at.push(clock.now());
        throw new Error('refused');
      },
      openGdi: () => new FakeBackend('gdi'),
      openCursor: () => ({}) as CursorSource,
    });
    for (let t = 0; t <= 200_000; t += 1_000) {
      c.displays();
      await clock.advance(1_000);
    }
    expect(REPROBE_DELAYS_MS).toEqual([5_000, 10_000, 30_000, 60_000]);
    expect(at).toEqual([0, 5_000, 15_000, 45_000, 105_000, 165_000]);
    expect(probes).toBe(6);
  });

  test('an input-desktop switch probes DXGI at once', async () => {
    dxgiOk = false;
    const c = make();
    await clock.advance(1_000);
    dxgiOk = true;
    follower.name = 'Winlogon';
    c.displays();
    expect(c.method).toBe('dxgi');
    expect(lines.at(-1)?.msg).toBe('DXGI desktop duplication available again; capturing with DXGI');
    c.close();
  });

  test('desktop switches probe at most once a second', async () => {
    let probes = 0;
    const c = new Win32Capturer({
      follower,
      timers: clock,
      openDxgi: () => {
        probes += 1;
        throw new Error('refused');
      },
      openGdi: () => new FakeBackend('gdi'),
      openCursor: () => ({}) as CursorSource,
    });
    expect(probes).toBe(1);
    await clock.advance(1_000);
    follower.name = 'Winlogon';
    c.displays();
    expect(probes).toBe(2);
    await clock.advance(500);
    follower.name = 'Default';
    c.displays();
    expect(probes).toBe(2);
    await clock.advance(500);
    c.displays();
    expect(probes).toBe(3);
    c.close();
  });

  test('a DXGI source that gives up moves every source to GDI, on the same displays, logged once', async () => {
    const c = make();
    const a = c.openFrameSource(0);
    const b = c.openFrameSource(1);
    a.grab();
    b.grab();
    const dxgi = dxgiOpened[0]!;
    dxgi.grabError = new CaptureError(
      'unsupported',
      'DXGI desktop duplication of \\\\.\\DISPLAY1 unavailable for 5000 ms',
    );
    expect(a.grab().sequence).toBe(1); // the frame came from the new GDI source
    expect(c.method).toBe('gdi');
    expect(dxgi.closed).toBe(true);
    expect(b.grab().sequence).toBe(1);
    expect(gdiOpened[0]!.sources.map((s) => s.display.name)).toEqual([D1.name, D2.name]);
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
      'DXGI desktop duplication lost; capturing with GDI',
    ]);
    // And DXGI is probed again later.
    await clock.advance(5_000);
    a.grab();
    expect(c.method).toBe('dxgi');
    c.close();
  });

  test('other capture errors pass through and do not switch', () => {
    const c = make();
    const a = c.openFrameSource(0);
    dxgiOpened[0]!.grabError = new CaptureError('failed', 'BitBlt failed');
    expect(() => a.grab()).toThrow('BitBlt failed');
    expect(c.method).toBe('dxgi');
    c.close();
  });

  test('a display that is gone after a switch is reported as no_such_display', async () => {
    dxgiOk = false;
    const c = make();
    const s = c.openFrameSource(1);
    dxgiOk = true;
    const original = FakeBackend.prototype.displays;
    FakeBackend.prototype.displays = function (this: FakeBackend) {
      return this.method === 'dxgi' ? [D1] : original.call(this);
    };
    try {
      await clock.advance(5_000);
      let err: unknown;
      try {
        s.grab();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CaptureError);
      expect((err as CaptureError).code).toBe('no_such_display');
    } finally {
      FakeBackend.prototype.displays = original;
      c.close();
    }
  });
});
