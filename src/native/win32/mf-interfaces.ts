/**
 * The Media Foundation COM interfaces the H.264 encoder calls, as vtable slots and prototypes (COM
 * through `ComRef`, see com.ts). Slots count the inherited methods: IUnknown 0-2, then IMFAttributes'
 * 30 methods (3-32) for every interface built on it (IMFActivate, IMFMediaType, IMFSample,
 * IMFMediaEvent). test/win32/abi.test.ts compares each slot with mingw-w64's mfobjects.h,
 * mftransform.h and icodecapi.h vtable structs (`WIN32_VTABLES` in abi.ts).
 */
import koffi from 'koffi';
import './library.js';
import './mf-structs.js';

/** IMFAttributes, and the same slots on every interface derived from it. */
export const IMFAttributes = {
  GetUINT32: [
    7,
    koffi.proto(
      'HRESULT __stdcall PortholeMFAttrGetUINT32(void *self, const GUID *guidKey, _Out_ uint32_t *punValue)',
    ),
  ],
  GetUINT64: [
    8,
    koffi.proto(
      'HRESULT __stdcall PortholeMFAttrGetUINT64(void *self, const GUID *guidKey, _Out_ uint64_t *punValue)',
    ),
  ],
  GetGUID: [
    10,
    koffi.proto(
      'HRESULT __stdcall PortholeMFAttrGetGUID(void *self, const GUID *guidKey, _Out_ GUID *pguidValue)',
    ),
  ],
  GetAllocatedString: [
    13,
    koffi.proto(
      'HRESULT __stdcall PortholeMFAttrGetAllocatedString(void *self, const GUID *guidKey, _Out_ void **ppwszValue, _Out_ uint32_t *pcchLength)',
    ),
  ],
  GetAllocatedBlob: [
    16,
    koffi.proto(
      'HRESULT __stdcall PortholeMFAttrGetAllocatedBlob(void *self, const GUID *guidKey, _Out_ void **ppBuf, _Out_ uint32_t *pcbSize)',
    ),
  ],
  SetUINT32: [
    21,
    koffi.proto(
      'HRESULT __stdcall PortholeMFAttrSetUINT32(void *self, const GUID *guidKey, uint32_t unValue)',
    ),
  ],
  SetUINT64: [
    22,
    koffi.proto(
      'HRESULT __stdcall PortholeMFAttrSetUINT64(void *self, const GUID *guidKey, uint64_t unValue)',
    ),
  ],
  SetGUID: [
    24,
    koffi.proto(
      'HRESULT __stdcall PortholeMFAttrSetGUID(void *self, const GUID *guidKey, const GUID *guidValue)',
    ),
  ],
} as const;

/** IMFActivate (IMFAttributes 3-32) */
export const IMFActivate = {
  ActivateObject: [
    33,
    koffi.proto('HRESULT __stdcall PortholeMFActivateObject(void *self, const GUID *riid, _Out_ void **ppv)'),
  ],
  ShutdownObject: [34, koffi.proto('HRESULT __stdcall PortholeMFShutdownObject(void *self)')],
} as const;

/** IMFSample (IMFAttributes 3-32) */
export const IMFSample = {
  GetSampleTime: [
    35,
    koffi.proto('HRESULT __stdcall PortholeMFSampleGetTime(void *self, _Out_ int64_t *phnsSampleTime)'),
  ],
  SetSampleTime: [
    36,
    koffi.proto('HRESULT __stdcall PortholeMFSampleSetTime(void *self, int64_t hnsSampleTime)'),
  ],
  SetSampleDuration: [
    38,
    koffi.proto('HRESULT __stdcall PortholeMFSampleSetDuration(void *self, int64_t hnsSampleDuration)'),
  ],
  ConvertToContiguousBuffer: [
    41,
    koffi.proto('HRESULT __stdcall PortholeMFSampleContiguous(void *self, _Out_ void **ppBuffer)'),
  ],
  AddBuffer: [42, koffi.proto('HRESULT __stdcall PortholeMFSampleAddBuffer(void *self, void *pBuffer)')],
} as const;

/** IMFMediaBuffer */
export const IMFMediaBuffer = {
  Lock: [
    3,
    koffi.proto(
      'HRESULT __stdcall PortholeMFBufferLock(void *self, _Out_ void **ppbBuffer, _Out_ DWORD *pcbMaxLength, _Out_ DWORD *pcbCurrentLength)',
    ),
  ],
  Unlock: [4, koffi.proto('HRESULT __stdcall PortholeMFBufferUnlock(void *self)')],
  SetCurrentLength: [
    6,
    koffi.proto('HRESULT __stdcall PortholeMFBufferSetCurrentLength(void *self, DWORD cbCurrentLength)'),
  ],
} as const;

/** IMFMediaEvent (IMFAttributes 3-32) */
export const IMFMediaEvent = {
  GetType: [33, koffi.proto('HRESULT __stdcall PortholeMFEventGetType(void *self, _Out_ DWORD *pmet)')],
  GetStatus: [
    35,
    koffi.proto('HRESULT __stdcall PortholeMFEventGetStatus(void *self, _Out_ HRESULT *phrStatus)'),
  ],
} as const;

/** IMFMediaEventGenerator: an asynchronous MFT's METransformNeedInput / METransformHaveOutput. */
export const IMFMediaEventGenerator = {
  GetEvent: [
    3,
    koffi.proto('HRESULT __stdcall PortholeMFGetEvent(void *self, DWORD dwFlags, _Out_ void **ppEvent)'),
  ],
} as const;

/** IMFTransform */
export const IMFTransform = {
  GetOutputStreamInfo: [
    7,
    koffi.proto(
      'HRESULT __stdcall PortholeMFTGetOutputStreamInfo(void *self, DWORD dwOutputStreamID, _Out_ MFT_OUTPUT_STREAM_INFO *pStreamInfo)',
    ),
  ],
  GetAttributes: [
    8,
    koffi.proto('HRESULT __stdcall PortholeMFTGetAttributes(void *self, _Out_ void **pAttributes)'),
  ],
  GetOutputAvailableType: [
    14,
    koffi.proto(
      'HRESULT __stdcall PortholeMFTGetOutputAvailableType(void *self, DWORD dwOutputStreamID, DWORD dwTypeIndex, _Out_ void **ppType)',
    ),
  ],
  SetInputType: [
    15,
    koffi.proto(
      'HRESULT __stdcall PortholeMFTSetInputType(void *self, DWORD dwInputStreamID, void *pType, DWORD dwFlags)',
    ),
  ],
  SetOutputType: [
    16,
    koffi.proto(
      'HRESULT __stdcall PortholeMFTSetOutputType(void *self, DWORD dwOutputStreamID, void *pType, DWORD dwFlags)',
    ),
  ],
  GetOutputCurrentType: [
    18,
    koffi.proto(
      'HRESULT __stdcall PortholeMFTGetOutputCurrentType(void *self, DWORD dwOutputStreamID, _Out_ void **ppType)',
    ),
  ],
  ProcessMessage: [
    23,
    koffi.proto('HRESULT __stdcall PortholeMFTProcessMessage(void *self, int eMessage, ULONG_PTR ulParam)'),
  ],
  ProcessInput: [
    24,
    koffi.proto(
      'HRESULT __stdcall PortholeMFTProcessInput(void *self, DWORD dwInputStreamID, void *pSample, DWORD dwFlags)',
    ),
  ],
  ProcessOutput: [
    25,
    koffi.proto(
      'HRESULT __stdcall PortholeMFTProcessOutput(void *self, DWORD dwFlags, DWORD cOutputBufferCount, _Inout_ MFT_OUTPUT_DATA_BUFFER *pOutputSamples, _Out_ DWORD *pdwStatus)',
    ),
  ],
} as const;

/** ICodecAPI: the encoder's rate control, latency, GOP and keyframe-on-demand properties. */
export const ICodecAPI = {
  IsSupported: [3, koffi.proto('HRESULT __stdcall PortholeCodecAPIIsSupported(void *self, const GUID *Api)')],
  GetValue: [
    8,
    koffi.proto(
      'HRESULT __stdcall PortholeCodecAPIGetValue(void *self, const GUID *Api, _Out_ VARIANT *Value)',
    ),
  ],
  SetValue: [
    9,
    koffi.proto('HRESULT __stdcall PortholeCodecAPISetValue(void *self, const GUID *Api, VARIANT *Value)'),
  ],
} as const;
