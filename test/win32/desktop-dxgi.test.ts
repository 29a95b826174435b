import { describe, expect, test } from 'vitest';
import { createCapturer } from '../../src/helper/capture/index.js';
import { Win32DxgiCapturer } from '../../src/helper/capture/win32-dxgi-capturer.js';
import { Win32GdiCapturer } from '../../src/helper/capture/win32-gdi-capturer.js';
import { liveComRefs } from '../../src/native/win32/com.js';
import { Win32Error } from '../../src/native/win32/win32-error.js';

// Under Wine + Xvfb the D3D11 device, its adapter and outputs exist, but desktop duplication is not
// implemented: DuplicateOutput returns E_NOTIMPL. That failure, the references given back on it, and
// the factory's fall-back to GDI are what can be checked here; frames through DXGI need a real Windows.
describe('DXGI desktop duplication under Wine', () => {
  test('gets as far as IDXGIOutput1::DuplicateOutput, which fails with E_NOTIMPL, and leaks no reference', () => {
    const before = liveComRefs();
    let err: unknown;
    try {
      new Win32DxgiCapturer().close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Win32Error);
    expect((err as Win32Error).call).toBe('IDXGIOutput1::DuplicateOutput');
    expect((err as Win32Error).win32Code).toBe(0x80004001);
    expect((err as Error).message).toBe('IDXGIOutput1::DuplicateOutput failed: HRESULT 0x80004001');
    expect(liveComRefs()).toBe(before);
  });

  test('createCapturer falls back to GDI and logs why, once', async () => {
    const lines: { obj: object; msg?: string }[] = [];
    const log = {
      info: () => undefined,
      warn: (obj: object, msg?: string) => void lines.push({ obj, msg }),
    };
    const before = liveComRefs();
    const capturer = await createCapturer({ kind: 'win32', log });
    try {
      expect(capturer).toBeInstanceOf(Win32GdiCapturer);
      expect(lines).toEqual([
        {
          obj: { reason: 'IDXGIOutput1::DuplicateOutput failed: HRESULT 0x80004001' },
          msg: 'DXGI desktop duplication unavailable; capturing with GDI',
        },
      ]);
      expect(liveComRefs()).toBe(before);
    } finally {
      capturer.close();
    }
  });
});
