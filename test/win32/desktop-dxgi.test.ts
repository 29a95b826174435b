import { describe, expect, test } from 'vitest';
import { createCapturer } from '../../src/helper/capture/index.js';
import { Win32Capturer } from '../../src/helper/capture/win32-capturer.js';
import { koffiDxgiApi } from '../../src/helper/capture/win32-dxgi-api.js';
import { Win32DxgiCapturer } from '../../src/helper/capture/win32-dxgi-capturer.js';
import { listWin32Monitors } from '../../src/helper/capture/win32-monitors.js';
import { InputDesktopFollower } from '../../src/helper/win32-input-desktop/input-desktop-follower.js';
import { liveComRefs } from '../../src/native/win32/com.js';
import { Win32Error } from '../../src/native/win32/win32-error.js';
import { FakeClock } from '../fixtures/fake-clock.js';

// Under Wine + Xvfb the DXGI factory, its adapters, outputs and a D3D11 device on an adapter exist,
// but desktop duplication is not implemented: DuplicateOutput returns E_NOTIMPL. The enumeration, that
// failure, the references given back on every path, the fall-back to GDI and the later re-probes are
// what can be checked here; frames through DXGI need a real Windows (scripts/windows-vm-check.ps1).
describe('DXGI desktop duplication under Wine', () => {
  test('the factory walks every adapter (EnumAdapters1, GetDesc1) and its outputs; IsCurrent; close gives every reference back', () => {
    const before = liveComRefs();
    const chain = koffiDxgiApi.open();
    try {
      expect(chain.outputs).toEqual([
        {
          name: expect.any(String) as string,
          adapter: expect.stringMatching(/\S/) as string,
          adapterIndex: 0,
          outputIndex: 0,
          rect: { x: 0, y: 0, width: 1280, height: 720 },
          rotation: expect.any(Number) as number,
        },
      ]);
      // The name GDI gives the same monitor, which keeps a display's identity across DXGI ⇄ GDI switches.
      expect(chain.outputs[0]!.name).toBe(listWin32Monitors()[0]!.name);
      expect(chain.isCurrent()).toBe(true);
      // D3D11CreateDevice on the output's adapter (D3D_DRIVER_TYPE_UNKNOWN) works; the duplication does not.
      let err: unknown;
      try {
        chain.duplicate(chain.outputs[0]!);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Win32Error);
      expect((err as Error).message).toBe('IDXGIOutput1::DuplicateOutput failed: HRESULT 0x80004001');
    } finally {
      chain.close();
    }
    expect(liveComRefs()).toBe(before);
  });

  test('the backend probe gets as far as IDXGIOutput1::DuplicateOutput, which fails with E_NOTIMPL, and leaks no reference', () => {
    const before = liveComRefs();
    let err: unknown;
    try {
      new Win32DxgiCapturer({ api: koffiDxgiApi, follower: new InputDesktopFollower() }).close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Win32Error);
    expect((err as Win32Error).call).toBe('IDXGIOutput1::DuplicateOutput');
    expect((err as Win32Error).win32Code).toBe(0x80004001);
    expect(liveComRefs()).toBe(before);
  });

  test('createCapturer captures with GDI, says why once, and probes DXGI again later without saying it again', async () => {
    const lines: { obj: object; msg?: string }[] = [];
    const log = {
      info: () => undefined,
      warn: (obj: object, msg?: string) => void lines.push({ obj, msg }),
    };
    const clock = new FakeClock(0);
    const before = liveComRefs();
    // Counts the probes: each builds a chain (factory, adapters, outputs, device) with the real calls.
    const open = koffiDxgiApi.open.bind(koffiDxgiApi);
    let probes = 0;
    koffiDxgiApi.open = () => {
      probes += 1;
      return open();
    };
    const capturer = await createCapturer({ kind: 'win32', log, timers: clock });
    try {
      expect(probes).toBe(1);
      expect(capturer).toBeInstanceOf(Win32Capturer);
      expect((capturer as Win32Capturer).method).toBe('gdi');
      const source = capturer.openFrameSource(0);
      expect(source.grab()).toMatchObject({ width: 1280, height: 720 });
      // Re-probes at 5 s and 15 s: DuplicateOutput still fails, GDI stays, nothing more is logged.
      await clock.advance(5_000);
      expect(source.grab().width).toBe(1280);
      expect(probes).toBe(2);
      await clock.advance(10_000);
      expect(capturer.displays()).toHaveLength(1);
      expect(probes).toBe(3);
      expect((capturer as Win32Capturer).method).toBe('gdi');
      source.close();
      expect(lines).toEqual([
        {
          obj: { reason: 'IDXGIOutput1::DuplicateOutput failed: HRESULT 0x80004001' },
          msg: 'DXGI desktop duplication unavailable; capturing with GDI',
        },
      ]);
      expect(liveComRefs()).toBe(before);
    } finally {
      koffiDxgiApi.open = open;
      capturer.close();
    }
  });
});
