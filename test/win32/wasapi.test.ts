/**
 * WASAPI loopback under Wine, as far as Wine's mmdevapi goes. The bindings' layouts (WAVEFORMATEX,
 * the vtable slots, the IIDs and flags) are checked against mingw-w64 by abi.test.ts and
 * constants.test.ts. Here the calls run: CoCreateInstance gives the device enumerator, and Wine's test
 * prefix has no audio driver, so GetDefaultAudioEndpoint answers E_NOTFOUND (HRESULT_FROM_WIN32
 * (ERROR_NOT_FOUND)); the capture refuses with `unavailable`, naming the call, and gives the enumerator
 * back. Opening the loopback client, reading packets and the tone's frequency: VM step 12i.
 */
import { describe, expect, test } from 'vitest';
import { startWasapiCapture } from '../../src/helper/audio/win32-wasapi-capture.js';
import { liveComRefs } from '../../src/native/win32/com.js';
import { silentLogger } from '../../src/log/logger.js';

describe('WASAPI loopback under Wine', () => {
  test('creates the enumerator, finds no render endpoint (E_NOTFOUND), refuses as unavailable and leaks nothing', () => {
    const before = liveComRefs();
    let err: unknown;
    try {
      void startWasapiCapture({ log: silentLogger }).close();
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({
      name: 'AudioError',
      code: 'unavailable',
      message: expect.stringContaining('IMMDeviceEnumerator::GetDefaultAudioEndpoint') as string,
    });
    expect((err as Error).message).toMatch(/0x80070490/i);
    expect(liveComRefs()).toBe(before);
  });
});
