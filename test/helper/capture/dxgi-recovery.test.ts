// The DXGI recovery rules alone (src/helper/capture/dxgi-recovery.ts) and the adapter/output
// enumeration through a fake factory (src/helper/capture/dxgi-api.ts).
import { describe, expect, test } from 'vitest';
import {
  enumerateOutputs,
  orderOutputs,
  type AdapterDesc,
  type FactoryWalk,
  type OutputDesc,
} from '../../../src/helper/capture/dxgi-api.js';
import {
  afterDuplicateFailure,
  afterFrameFailure,
  hresultHex,
  RETRY_DELAYS_MS,
  RetrySchedule,
} from '../../../src/helper/capture/dxgi-recovery.js';
import {
  DXGI_ADAPTER_FLAG_SOFTWARE,
  DXGI_ERROR,
  E_ACCESSDENIED,
  E_INVALIDARG,
  E_NOTIMPL,
} from '../../../src/native/win32/dxgi.js';
import { Win32Error } from '../../../src/native/win32/win32-error.js';
import { FakeClock } from '../../fixtures/fake-clock.js';

describe('what a failed AcquireNextFrame leads to', () => {
  test('WAIT_TIMEOUT is no new frame; ACCESS_LOST, device errors and anything else rebuild the chain', () => {
    expect(afterFrameFailure(DXGI_ERROR.WAIT_TIMEOUT)).toBe('none');
    for (const code of [
      DXGI_ERROR.ACCESS_LOST,
      DXGI_ERROR.DEVICE_REMOVED,
      DXGI_ERROR.DEVICE_RESET,
      DXGI_ERROR.DEVICE_HUNG,
      DXGI_ERROR.DRIVER_INTERNAL_ERROR,
      DXGI_ERROR.INVALID_CALL,
      E_ACCESSDENIED,
      0x80004005 | 0,
    ])
      expect([hresultHex(code), afterFrameFailure(code)]).toEqual([hresultHex(code), 'rebuild']);
  });

  test('accepts the unsigned form Win32Error carries', () => {
    expect(afterFrameFailure(0x887a0027)).toBe('none');
  });
});

describe('what a failed DuplicateOutput leads to', () => {
  test('E_NOTIMPL: no duplication on this system at all', () => {
    expect(afterDuplicateFailure(E_NOTIMPL, 1)).toBe('unsupported');
  });

  test('refusals are retried on the same device once, then the chain is rebuilt (Sunshine: two tries per device)', () => {
    for (const code of [
      E_ACCESSDENIED,
      DXGI_ERROR.UNSUPPORTED,
      DXGI_ERROR.NOT_CURRENTLY_AVAILABLE,
      DXGI_ERROR.SESSION_DISCONNECTED,
      E_INVALIDARG,
    ]) {
      expect([1, 2, 3, 4].map((n) => afterDuplicateFailure(code, n))).toEqual([
        'retry',
        'rebuild',
        'retry',
        'rebuild',
      ]);
    }
  });

  test('device errors rebuild at once', () => {
    expect(afterDuplicateFailure(DXGI_ERROR.DEVICE_REMOVED, 1)).toBe('rebuild');
    expect(afterDuplicateFailure(DXGI_ERROR.DEVICE_RESET, 1)).toBe('rebuild');
  });
});

describe('RetrySchedule', () => {
  test('at once, then 200 ms twice, then longer, capped; a delivered frame starts over', async () => {
    const clock = new FakeClock(0);
    const r = new RetrySchedule(clock);
    expect(r.due()).toBe(true);
    const waits: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      r.failed();
      let waited = 0;
      while (!r.due()) {
        await clock.advance(50);
        waited += 50;
      }
      waits.push(waited);
    }
    expect(RETRY_DELAYS_MS).toEqual([0, 200, 200, 500, 1000, 2000]);
    expect(waits).toEqual([0, 200, 200, 500, 1000, 2000, 2000, 2000]);
    expect(r.count).toBe(8);
    expect(r.failingForMs).toBe(7900);
    r.succeeded();
    expect([r.count, r.failingForMs, r.due()]).toEqual([0, 0, true]);
  });
});

type FakeAdapter = { kind: 'adapter'; desc: AdapterDesc; outputs: FakeOutputRef[]; released: boolean };
type FakeOutputRef = { kind: 'output'; desc: OutputDesc; released: boolean };

function output(
  name: string,
  left: number,
  top: number,
  w: number,
  h: number,
  attached = true,
): FakeOutputRef {
  return {
    kind: 'output',
    released: false,
    desc: { deviceName: name, attached, rect: { left, top, right: left + w, bottom: top + h }, rotation: 1 },
  };
}

/** A fake IDXGIFactory1: EnumAdapters1/EnumOutputs over fixed lists; `failAt` throws from one call. */
function fakeFactory(
  adapters: FakeAdapter[],
  failAt?: string,
): FactoryWalk<FakeAdapter, FakeOutputRef> & { handedOut: (FakeAdapter | FakeOutputRef)[] } {
  const handedOut: (FakeAdapter | FakeOutputRef)[] = [];
  const fail = (call: string): void => {
    if (call === failAt) throw new Win32Error(call, DXGI_ERROR.INVALID_CALL, { hresult: true });
  };
  return {
    handedOut,
    adapter(i) {
      fail(`EnumAdapters1(${i})`);
      const a = adapters[i];
      if (a) handedOut.push(a);
      return a;
    },
    describeAdapter: (a) => a.desc,
    output(a, i) {
      fail(`EnumOutputs(${a.desc.description}, ${i})`);
      const o = a.outputs[i];
      if (o) handedOut.push(o);
      return o;
    },
    describeOutput: (o) => o.desc,
    release(ref) {
      if (ref.released) throw new Error('released twice');
      ref.released = true;
    },
  };
}

function adapter(description: string, outputs: FakeOutputRef[], flags = 0): FakeAdapter {
  return { kind: 'adapter', released: false, desc: { description, flags }, outputs };
}

describe('adapter and output enumeration (fake factory)', () => {
  test('every adapter is walked: a second GPU’s monitor is listed; the primary first, then left to right', () => {
    const igpu = adapter('Intel UHD', [
      output('\\\\.\\DISPLAY1', 0, 0, 1920, 1080),
      output('\\\\.\\DISPLAY3', 1920, 0, 1280, 1024, false),
    ]);
    const dgpu = adapter('NVIDIA RTX', [
      output('\\\\.\\DISPLAY2', -2560, 0, 2560, 1440),
      output('\\\\.\\DISPLAY4', 1920, 0, 1920, 1080),
    ]);
    const warp = adapter('Microsoft Basic Render Driver', [], DXGI_ADAPTER_FLAG_SOFTWARE);
    const idle = adapter('Headless GPU', []);
    const walk = fakeFactory([igpu, dgpu, warp, idle]);
    const found = enumerateOutputs(walk);
    expect(
      found.outputs.map((o) => [o.info.name, o.info.adapter, o.info.adapterIndex, o.info.outputIndex]),
    ).toEqual([
      ['\\\\.\\DISPLAY1', 'Intel UHD', 0, 0],
      ['\\\\.\\DISPLAY2', 'NVIDIA RTX', 1, 0],
      ['\\\\.\\DISPLAY4', 'NVIDIA RTX', 1, 1],
    ]);
    expect(found.outputs[1]!.info.rect).toEqual({ x: -2560, y: 0, width: 2560, height: 1440 });
    expect(found.adapters.map((a) => [a.index, a.description])).toEqual([
      [0, 'Intel UHD'],
      [1, 'NVIDIA RTX'],
    ]);
    // Kept references are the chain's; everything else was released once.
    const kept = new Set<unknown>([...found.adapters.map((a) => a.ref), ...found.outputs.map((o) => o.ref)]);
    expect(walk.handedOut.filter((r) => !kept.has(r)).every((r) => r.released)).toBe(true);
    expect([...kept].every((r) => !(r as FakeAdapter).released)).toBe(true);
  });

  test('an output reported under two adapters keeps the first', () => {
    const a = adapter('A', [output('\\\\.\\DISPLAY1', 0, 0, 800, 600)]);
    const b = adapter('B', [output('\\\\.\\DISPLAY1', 0, 0, 800, 600)]);
    const found = enumerateOutputs(fakeFactory([a, b]));
    expect(found.outputs.map((o) => o.info.adapter)).toEqual(['A']);
    expect(b.released && b.outputs[0]!.released).toBe(true);
  });

  test('a failing call releases every reference taken so far and rethrows', () => {
    const a = adapter('A', [output('\\\\.\\DISPLAY1', 0, 0, 800, 600)]);
    const b = adapter('B', [
      output('\\\\.\\DISPLAY2', 800, 0, 800, 600),
      output('\\\\.\\DISPLAY3', 1600, 0, 800, 600),
    ]);
    const walk = fakeFactory([a, b], 'EnumOutputs(B, 1)');
    expect(() => enumerateOutputs(walk)).toThrow(Win32Error);
    expect(walk.handedOut.every((r) => r.released)).toBe(true);
  });

  test('no adapter with an attached output: an empty list', () => {
    expect(enumerateOutputs(fakeFactory([adapter('A', [output('x', 0, 0, 1, 1, false)])])).outputs).toEqual(
      [],
    );
  });

  test('display order matches the GDI list: primary, then x, then y', () => {
    const rects = [
      { x: 1920, y: 0 },
      { x: 0, y: 1080 },
      { x: -1280, y: 200 },
      { x: 0, y: 0 },
      { x: -1280, y: -824 },
    ].map((p) => ({ ...p, width: 10, height: 10 }));
    expect(orderOutputs(rects, (r) => r).map((r) => [r.x, r.y])).toEqual([
      [0, 0],
      [-1280, -824],
      [-1280, 200],
      [0, 1080],
      [1920, 0],
    ]);
  });
});
