/**
 * WASAPI for loopback capture (the session's sound as it is played): the device enumerator
 * (mmdeviceapi.h), the endpoint, IAudioClient and IAudioCaptureClient (audioclient.h), as vtable slots
 * and prototypes for `ComRef` (com.ts), and CoCreateInstance from ole32. Slots count the inherited
 * IUnknown methods (0-2); test/win32/abi.test.ts compares each with mingw-w64's *Vtbl structs
 * (`WIN32_VTABLES` in abi.ts), WAVEFORMATEX with its sizeof/offsetof, the IIDs and flags with the
 * headers' values (abi-constants.h).
 */
import koffi from 'koffi';
import { guid } from './com.js';
import { lazyLibrary } from './library.js';

export const CLSID_MMDeviceEnumerator = guid('bcde0395-e52f-467c-8e3d-c4579291692e');
export const IID_IMMDeviceEnumerator = guid('a95664d2-9614-4f35-a746-de8db63617e6');
export const IID_IAudioClient = guid('1cb9ad4c-dbfa-4c32-b178-c2f568a703b2');
export const IID_IAudioCaptureClient = guid('c8adbd64-e71e-48a0-a4de-185c395cd317');

/** WAVEFORMATEX is byte-packed in mmreg.h (18 bytes: cbSize follows the 16-bit sample size directly). */
export const WAVEFORMATEX = koffi.pack('WAVEFORMATEX', {
  wFormatTag: 'uint16_t',
  nChannels: 'uint16_t',
  nSamplesPerSec: 'uint32_t',
  nAvgBytesPerSec: 'uint32_t',
  nBlockAlign: 'uint16_t',
  wBitsPerSample: 'uint16_t',
  cbSize: 'uint16_t',
});

export interface WaveFormatFields {
  wFormatTag: number;
  nChannels: number;
  nSamplesPerSec: number;
  nAvgBytesPerSec: number;
  nBlockAlign: number;
  wBitsPerSample: number;
  cbSize: number;
}

export const WAVE_FORMAT_PCM = 1;
/** EDataFlow / ERole: the render endpoint the console user hears. */
export const eRender = 0;
export const eConsole = 0;
export const CLSCTX_ALL = 0x17;
export const AUDCLNT_SHAREMODE_SHARED = 0;
/** Record what the endpoint renders, not a microphone. */
export const AUDCLNT_STREAMFLAGS_LOOPBACK = 0x0002_0000;
/** Let the audio engine convert the mix format (often 32-bit float, 44.1 or 48 kHz) to ours. */
export const AUDCLNT_STREAMFLAGS_AUTOCONVERTPCM = 0x8000_0000;
export const AUDCLNT_STREAMFLAGS_SRC_DEFAULT_QUALITY = 0x0800_0000;
/** GetBuffer's flags: the packet is silence (its bytes are to be ignored). */
export const AUDCLNT_BUFFERFLAGS_SILENT = 0x2;

/** IMMDeviceEnumerator (IUnknown 0-2) */
export const IMMDeviceEnumerator = {
  GetDefaultAudioEndpoint: [
    4,
    koffi.proto(
      'HRESULT __stdcall PortholeMMDeviceEnumeratorGetDefaultAudioEndpoint(void *self, int dataFlow, int role, _Out_ void **ppEndpoint)',
    ),
  ],
} as const;

/** IMMDevice (IUnknown 0-2) */
export const IMMDevice = {
  Activate: [
    3,
    koffi.proto(
      'HRESULT __stdcall PortholeMMDeviceActivate(void *self, const GUID *iid, DWORD dwClsCtx, void *pActivationParams, _Out_ void **ppInterface)',
    ),
  ],
} as const;

/** IAudioClient (IUnknown 0-2) */
export const IAudioClient = {
  Initialize: [
    3,
    koffi.proto(
      'HRESULT __stdcall PortholeAudioClientInitialize(void *self, int ShareMode, DWORD StreamFlags, int64_t hnsBufferDuration, int64_t hnsPeriodicity, const WAVEFORMATEX *pFormat, const GUID *AudioSessionGuid)',
    ),
  ],
  GetMixFormat: [
    8,
    koffi.proto('HRESULT __stdcall PortholeAudioClientGetMixFormat(void *self, _Out_ void **ppDeviceFormat)'),
  ],
  Start: [10, koffi.proto('HRESULT __stdcall PortholeAudioClientStart(void *self)')],
  Stop: [11, koffi.proto('HRESULT __stdcall PortholeAudioClientStop(void *self)')],
  GetService: [
    14,
    koffi.proto(
      'HRESULT __stdcall PortholeAudioClientGetService(void *self, const GUID *riid, _Out_ void **ppv)',
    ),
  ],
} as const;

/** IAudioCaptureClient (IUnknown 0-2) */
export const IAudioCaptureClient = {
  GetBuffer: [
    3,
    koffi.proto(
      'HRESULT __stdcall PortholeAudioCaptureClientGetBuffer(void *self, _Out_ void **ppData, _Out_ uint32_t *pNumFramesToRead, _Out_ DWORD *pdwFlags, _Out_ uint64_t *pu64DevicePosition, _Out_ uint64_t *pu64QPCPosition)',
    ),
  ],
  ReleaseBuffer: [
    4,
    koffi.proto(
      'HRESULT __stdcall PortholeAudioCaptureClientReleaseBuffer(void *self, uint32_t NumFramesRead)',
    ),
  ],
  GetNextPacketSize: [
    5,
    koffi.proto(
      'HRESULT __stdcall PortholeAudioCaptureClientGetNextPacketSize(void *self, _Out_ uint32_t *pNumFramesInNextPacket)',
    ),
  ],
} as const;

export const ole32Com = lazyLibrary('ole32.dll', (lib) => ({
  CoCreateInstance: lib.func(
    'HRESULT __stdcall CoCreateInstance(const GUID *rclsid, void *pUnkOuter, DWORD dwClsContext, const GUID *riid, _Out_ void **ppv)',
  ),
}));
