/**
 * Every struct porthole passes to Win32, by its C name, for the ABI check (test/win32/abi.test.ts
 * compares koffi's sizeof/offsetof with test/win32/native/abi-probe.c compiled against mingw-w64).
 */
import type { TypeObject } from 'koffi';
import {
  BITMAPINFOHEADER,
  DXGI_OUTDUPL_FRAME_INFO,
  DXGI_OUTDUPL_POINTER_POSITION,
  POINT,
} from './capture-structs.js';
import { GUID, IUnknown } from './com.js';
import {
  D3D11_MAPPED_SUBRESOURCE,
  D3D11_TEXTURE2D_DESC,
  ID3D11Device,
  ID3D11DeviceContext,
  ID3D11Texture2D,
} from './d3d11.js';
import {
  DXGI_ADAPTER_DESC1,
  DXGI_OUTDUPL_MOVE_RECT,
  DXGI_OUTPUT_DESC,
  IDXGIAdapter,
  IDXGIAdapter1,
  IDXGIDevice,
  IDXGIFactory1,
  IDXGIOutput1,
  IDXGIOutputDuplication,
} from './dxgi.js';
import { BITMAP } from './gdi32.js';
import {
  IMFActivate,
  IMFAttributes,
  IMFMediaBuffer,
  IMFMediaEvent,
  IMFMediaEventGenerator,
  IMFSample,
  IMFTransform,
  ICodecAPI,
} from './mf-interfaces.js';
import {
  MFT_OUTPUT_DATA_BUFFER,
  MFT_OUTPUT_STREAM_INFO,
  MFT_REGISTER_TYPE_INFO,
  VARIANT,
} from './mf-structs.js';
import { HARDWAREINPUT, INPUT, KEYBDINPUT, MOUSEINPUT } from './input-structs.js';
import {
  IO_COUNTERS,
  JOBOBJECT_BASIC_LIMIT_INFORMATION,
  JOBOBJECT_BASIC_PROCESS_ID_LIST,
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
  OVERLAPPED,
  PROCESS_INFORMATION,
  SECURITY_ATTRIBUTES,
  STARTUPINFOW,
} from './kernel32.js';
import { LUID } from './library.js';
import {
  IAudioCaptureClient,
  IAudioClient,
  IMMDevice,
  IMMDeviceEnumerator,
  WAVEFORMATEX,
} from './mmdevapi.js';
import { PUBLIC_OBJECT_BASIC_INFORMATION } from './ntdll.js';
import {
  SC_ACTION,
  SERVICE_DESCRIPTIONW,
  SERVICE_FAILURE_ACTIONS_FLAG,
  SERVICE_FAILURE_ACTIONSW,
  SERVICE_STATUS,
  SERVICE_TABLE_ENTRYW,
} from './service-control.js';
import { LUID_AND_ATTRIBUTES, TOKEN_PRIVILEGES } from './token.js';
import { CURSORINFO, ICONINFO, MONITORINFOEXW, RECT } from './user32.js';
import { MSG, WNDCLASSEXW } from './user32-window.js';
import { WTSSESSION_NOTIFICATION, WTS_SESSION_INFOW } from './wtsapi32.js';

export const WIN32_STRUCTS: Record<string, TypeObject> = {
  SECURITY_ATTRIBUTES,
  STARTUPINFOW,
  PROCESS_INFORMATION,
  OVERLAPPED,
  JOBOBJECT_BASIC_LIMIT_INFORMATION,
  IO_COUNTERS,
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
  LUID,
  LUID_AND_ATTRIBUTES,
  TOKEN_PRIVILEGES,
  WTS_SESSION_INFOW,
  WTSSESSION_NOTIFICATION,
  SERVICE_STATUS,
  SERVICE_TABLE_ENTRYW,
  SC_ACTION,
  SERVICE_FAILURE_ACTIONSW,
  SERVICE_DESCRIPTIONW,
  MOUSEINPUT,
  KEYBDINPUT,
  HARDWAREINPUT,
  INPUT,
  BITMAPINFOHEADER,
  POINT,
  DXGI_OUTDUPL_POINTER_POSITION,
  DXGI_OUTDUPL_FRAME_INFO,
  RECT,
  MONITORINFOEXW,
  CURSORINFO,
  ICONINFO,
  BITMAP,
  GUID,
  DXGI_OUTPUT_DESC,
  DXGI_OUTDUPL_MOVE_RECT,
  D3D11_TEXTURE2D_DESC,
  D3D11_MAPPED_SUBRESOURCE,
  // Issue 14: the job's process list, the failure-actions flag, a handle's granted access.
  JOBOBJECT_BASIC_PROCESS_ID_LIST,
  SERVICE_FAILURE_ACTIONS_FLAG,
  PUBLIC_OBJECT_BASIC_INFORMATION,
  // Issue 14, DXGI adapters and the clipboard owner window.
  DXGI_ADAPTER_DESC1,
  WNDCLASSEXW,
  MSG,
  // Issue 15: Media Foundation's H.264 encoder.
  MFT_REGISTER_TYPE_INFO,
  MFT_OUTPUT_STREAM_INFO,
  MFT_OUTPUT_DATA_BUFFER,
  VARIANT,
  // Issue 20: WASAPI loopback capture.
  WAVEFORMATEX,
};

/** `{ Method: slot }` of an interface table (`{ Method: [slot, prototype] }`). */
function slots(methods: Readonly<Record<string, readonly [number, unknown]>>): Record<string, number> {
  return Object.fromEntries(Object.entries(methods).map(([name, [slot]]) => [name, slot]));
}

/**
 * The vtable slot of every COM method porthole calls, by interface, for the same check
 * (`abi-probe.exe vtables`, test/win32/native/abi-vtables.h): a wrong slot calls another method.
 */
export const WIN32_VTABLES: Record<string, Record<string, number>> = {
  IUnknown: slots(IUnknown),
  IDXGIFactory1: slots(IDXGIFactory1),
  IDXGIAdapter: slots(IDXGIAdapter),
  IDXGIAdapter1: slots(IDXGIAdapter1),
  IDXGIDevice: slots(IDXGIDevice),
  IDXGIOutput1: slots(IDXGIOutput1),
  IDXGIOutputDuplication: slots(IDXGIOutputDuplication),
  ID3D11Device: slots(ID3D11Device),
  ID3D11Texture2D: slots(ID3D11Texture2D),
  ID3D11DeviceContext: slots(ID3D11DeviceContext),
  IMFAttributes: slots(IMFAttributes),
  IMFActivate: slots(IMFActivate),
  IMFSample: slots(IMFSample),
  IMFMediaBuffer: slots(IMFMediaBuffer),
  IMFMediaEvent: slots(IMFMediaEvent),
  IMFMediaEventGenerator: slots(IMFMediaEventGenerator),
  IMFTransform: slots(IMFTransform),
  ICodecAPI: slots(ICodecAPI),
  IMMDeviceEnumerator: slots(IMMDeviceEnumerator),
  IMMDevice: slots(IMMDevice),
  IAudioClient: slots(IAudioClient),
  IAudioCaptureClient: slots(IAudioCaptureClient),
};
