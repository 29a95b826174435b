/**
 * mfplat.dll (Media Foundation's platform: start-up, MFT enumeration, media types, samples and memory
 * buffers) and the two ole32 calls it needs (COM initialisation, freeing what MFTEnumEx and
 * IMFAttributes::GetAllocated* hand out). Loaded on first use; Windows only.
 */
import { lazyLibrary } from './library.js';
import './com.js'; // GUID
import './mf-structs.js'; // MFT_REGISTER_TYPE_INFO

export const mfplat = lazyLibrary('mfplat.dll', (lib) => ({
  MFStartup: lib.func('HRESULT __stdcall MFStartup(ULONG Version, DWORD dwFlags)'),
  MFShutdown: lib.func('HRESULT __stdcall MFShutdown()'),
  MFTEnumEx: lib.func(
    'HRESULT __stdcall MFTEnumEx(GUID guidCategory, uint32_t Flags, const MFT_REGISTER_TYPE_INFO *pInputType, const MFT_REGISTER_TYPE_INFO *pOutputType, _Out_ void **pppMFTActivate, _Out_ uint32_t *pnumMFTActivate)',
  ),
  MFCreateMediaType: lib.func('HRESULT __stdcall MFCreateMediaType(_Out_ void **ppMFType)'),
  MFCreateSample: lib.func('HRESULT __stdcall MFCreateSample(_Out_ void **ppIMFSample)'),
  MFCreateMemoryBuffer: lib.func(
    'HRESULT __stdcall MFCreateMemoryBuffer(DWORD cbMaxLength, _Out_ void **ppBuffer)',
  ),
}));

export const ole32 = lazyLibrary('ole32.dll', (lib) => ({
  CoInitializeEx: lib.func('HRESULT __stdcall CoInitializeEx(void *pvReserved, DWORD dwCoInit)'),
  CoTaskMemFree: lib.func('void __stdcall CoTaskMemFree(void *pv)'),
}));
