/**
 * dxgi.dll interfaces used by desktop duplication, as vtable slots and prototypes (COM through
 * `ComRef`, see com.ts): the factory that enumerates every adapter (CreateDXGIFactory1), adapters,
 * outputs and the duplication. Slot numbers count the inherited methods (IUnknown 0-2, IDXGIObject
 * 3-6); test/win32/abi.test.ts compares each with mingw-w64's dxgi.h / dxgi1_2.h vtable structs
 * (`WIN32_VTABLES` in abi.ts).
 */
import koffi from 'koffi';
import { guid } from './com.js';
import { lazyLibrary, LUID } from './library.js';
import { RECT } from './user32.js';
import './capture-structs.js'; // DXGI_OUTDUPL_FRAME_INFO

export const IID_IDXGIDevice = guid('54ec77fa-1377-44e6-8c32-88fd5f44c84c');
export const IID_IDXGIOutput1 = guid('00cddea8-939b-4b83-a340-a685226666cc');
export const IID_IDXGIResource = guid('035f3ab4-482e-4e50-b41f-8a7f8bd8960b');
export const IID_IDXGIFactory1 = guid('770aae78-f26f-4dba-a829-253c83d1b387');

export const DXGI_OUTPUT_DESC = koffi.struct('DXGI_OUTPUT_DESC', {
  DeviceName: koffi.array('char16_t', 32, 'String'),
  DesktopCoordinates: RECT,
  AttachedToDesktop: 'BOOL',
  Rotation: 'int',
  Monitor: 'HMONITOR',
});

export const DXGI_ADAPTER_DESC1 = koffi.struct('DXGI_ADAPTER_DESC1', {
  Description: koffi.array('char16_t', 128, 'String'),
  VendorId: 'UINT',
  DeviceId: 'UINT',
  SubSysId: 'UINT',
  Revision: 'UINT',
  DedicatedVideoMemory: 'SIZE_T',
  DedicatedSystemMemory: 'SIZE_T',
  SharedSystemMemory: 'SIZE_T',
  AdapterLuid: LUID,
  Flags: 'UINT',
});
/** DXGI_ADAPTER_DESC1.Flags: the Basic Render Driver (WARP), which has no outputs. */
export const DXGI_ADAPTER_FLAG_SOFTWARE = 2;

export const DXGI_OUTDUPL_MOVE_RECT = koffi.struct('DXGI_OUTDUPL_MOVE_RECT', {
  SourcePoint: 'POINT',
  DestinationRect: RECT,
});

export const DXGI_ERROR = {
  NOT_FOUND: 0x887a0002 | 0,
  MORE_DATA: 0x887a0003 | 0,
  UNSUPPORTED: 0x887a0004 | 0,
  ACCESS_LOST: 0x887a0026 | 0,
  WAIT_TIMEOUT: 0x887a0027 | 0,
  NOT_CURRENTLY_AVAILABLE: 0x887a0022 | 0,
  SESSION_DISCONNECTED: 0x887a0028 | 0,
  INVALID_CALL: 0x887a0001 | 0,
  DEVICE_REMOVED: 0x887a0005 | 0,
  DEVICE_HUNG: 0x887a0006 | 0,
  DEVICE_RESET: 0x887a0007 | 0,
  DRIVER_INTERNAL_ERROR: 0x887a0020 | 0,
} as const;
export const E_NOTIMPL = 0x80004001 | 0;
export const E_ACCESSDENIED = 0x80070005 | 0;
export const E_INVALIDARG = 0x80070057 | 0;

/** IDXGIFactory1 (IDXGIObject 3-6, IDXGIFactory 7-11) */
export const IDXGIFactory1 = {
  EnumAdapters1: [
    12,
    koffi.proto(
      'HRESULT __stdcall PortholeDXGIFactory1EnumAdapters1(void *self, UINT Adapter, _Out_ void **ppAdapter)',
    ),
  ],
  IsCurrent: [13, koffi.proto('BOOL __stdcall PortholeDXGIFactory1IsCurrent(void *self)')],
} as const;

/** IDXGIAdapter1 (IDXGIAdapter's EnumOutputs is slot 7, see IDXGIAdapter) */
export const IDXGIAdapter1 = {
  GetDesc1: [
    10,
    koffi.proto(
      'HRESULT __stdcall PortholeDXGIAdapter1GetDesc1(void *self, _Out_ DXGI_ADAPTER_DESC1 *pDesc)',
    ),
  ],
} as const;

/** IDXGIDevice */
export const IDXGIDevice = {
  GetAdapter: [
    7,
    koffi.proto('HRESULT __stdcall PortholeDXGIDeviceGetAdapter(void *self, _Out_ void **ppAdapter)'),
  ],
} as const;

/** IDXGIAdapter */
export const IDXGIAdapter = {
  EnumOutputs: [
    7,
    koffi.proto(
      'HRESULT __stdcall PortholeDXGIAdapterEnumOutputs(void *self, UINT Output, _Out_ void **ppOutput)',
    ),
  ],
} as const;

/** IDXGIOutput / IDXGIOutput1 */
export const IDXGIOutput1 = {
  GetDesc: [
    7,
    koffi.proto('HRESULT __stdcall PortholeDXGIOutputGetDesc(void *self, _Out_ DXGI_OUTPUT_DESC *pDesc)'),
  ],
  DuplicateOutput: [
    22,
    koffi.proto(
      'HRESULT __stdcall PortholeDXGIOutput1DuplicateOutput(void *self, void *pDevice, _Out_ void **ppOutputDuplication)',
    ),
  ],
} as const;

/** IDXGIOutputDuplication */
export const IDXGIOutputDuplication = {
  AcquireNextFrame: [
    8,
    koffi.proto(
      'HRESULT __stdcall PortholeDuplAcquireNextFrame(void *self, UINT TimeoutInMilliseconds, _Out_ DXGI_OUTDUPL_FRAME_INFO *pFrameInfo, _Out_ void **ppDesktopResource)',
    ),
  ],
  GetFrameDirtyRects: [
    9,
    koffi.proto(
      'HRESULT __stdcall PortholeDuplGetFrameDirtyRects(void *self, UINT DirtyRectsBufferSize, _Out_ uint8_t *pDirtyRectsBuffer, _Out_ UINT *pDirtyRectsBufferSizeRequired)',
    ),
  ],
  GetFrameMoveRects: [
    10,
    koffi.proto(
      'HRESULT __stdcall PortholeDuplGetFrameMoveRects(void *self, UINT MoveRectsBufferSize, _Out_ uint8_t *pMoveRectBuffer, _Out_ UINT *pMoveRectsBufferSizeRequired)',
    ),
  ],
  ReleaseFrame: [14, koffi.proto('HRESULT __stdcall PortholeDuplReleaseFrame(void *self)')],
} as const;

export const dxgi = lazyLibrary('dxgi.dll', (lib) => ({
  CreateDXGIFactory1: lib.func(
    'HRESULT __stdcall CreateDXGIFactory1(const GUID *riid, _Out_ void **ppFactory)',
  ),
}));
