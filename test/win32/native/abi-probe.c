/*
 * Prints, as JSON, sizeof and offsetof of every struct porthole passes to Win32, as the Windows
 * headers of mingw-w64 lay them out for x64. test/win32/abi.test.ts runs it under Wine and compares
 * each number with koffi's view of src/native/win32's declarations. With the argument `constants` it
 * prints the values of the Win32 constants porthole defines instead (abi-constants.h); with `vtables`
 * the vtable slot of every COM method porthole calls (abi-vtables.h).
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <wtsapi32.h>
#include <winsvc.h>
#include <initguid.h> /* the IIDs below are defined here, for `constants` */
#include <dxgi1_2.h>
#include <d3d11.h>
#include <mfapi.h>       /* Media Foundation (issue 15) */
#include <mftransform.h>
#include <mferror.h>
#include <codecapi.h> /* ICodecAPI itself comes with strmif.h, through mfobjects.h */
#include <mmdeviceapi.h> /* WASAPI loopback (issue 20) */
#include <audioclient.h>
#include <mmreg.h>
#include <stddef.h>
#include <stdio.h>
#include "abi-constants.h" /* print_constants(): `abi-probe.exe constants` */
#include "abi-vtables.h"   /* print_vtables(): `abi-probe.exe vtables` (COM method slots) */

static int first_struct = 1, first_field;

#define BEGIN(T)                                                                                     \
  printf("%s\"%s\":{\"size\":%u,\"fields\":{", first_struct ? "" : ",", #T, (unsigned)sizeof(T));  \
  first_struct = 0;                                                                                  \
  first_field = 1;
/* Field `f` of T, reported under the name porthole's declaration uses (`as`). */
#define FIELD_AS(T, f, as)                                                                           \
  printf("%s\"%s\":%u", first_field ? "" : ",", as, (unsigned)offsetof(T, f));                       \
  first_field = 0;
#define FIELD(T, f) FIELD_AS(T, f, #f)
#define END() printf("}}");

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "constants") == 0) return print_constants();
  if (argc > 1 && strcmp(argv[1], "vtables") == 0) return print_vtables();
  printf("{");
  BEGIN(SECURITY_ATTRIBUTES) FIELD(SECURITY_ATTRIBUTES, nLength) FIELD(SECURITY_ATTRIBUTES, lpSecurityDescriptor)
  FIELD(SECURITY_ATTRIBUTES, bInheritHandle) END()

  BEGIN(STARTUPINFOW) FIELD(STARTUPINFOW, cb) FIELD(STARTUPINFOW, lpReserved) FIELD(STARTUPINFOW, lpDesktop)
  FIELD(STARTUPINFOW, lpTitle) FIELD(STARTUPINFOW, dwX) FIELD(STARTUPINFOW, dwY) FIELD(STARTUPINFOW, dwXSize)
  FIELD(STARTUPINFOW, dwYSize) FIELD(STARTUPINFOW, dwXCountChars) FIELD(STARTUPINFOW, dwYCountChars)
  FIELD(STARTUPINFOW, dwFillAttribute) FIELD(STARTUPINFOW, dwFlags) FIELD(STARTUPINFOW, wShowWindow)
  FIELD(STARTUPINFOW, cbReserved2) FIELD(STARTUPINFOW, lpReserved2) FIELD(STARTUPINFOW, hStdInput)
  FIELD(STARTUPINFOW, hStdOutput) FIELD(STARTUPINFOW, hStdError) END()

  BEGIN(PROCESS_INFORMATION) FIELD(PROCESS_INFORMATION, hProcess) FIELD(PROCESS_INFORMATION, hThread)
  FIELD(PROCESS_INFORMATION, dwProcessId) FIELD(PROCESS_INFORMATION, dwThreadId) END()

  BEGIN(OVERLAPPED) FIELD(OVERLAPPED, Internal) FIELD(OVERLAPPED, InternalHigh) FIELD(OVERLAPPED, Offset)
  FIELD(OVERLAPPED, OffsetHigh) FIELD(OVERLAPPED, hEvent) END()

  BEGIN(JOBOBJECT_BASIC_LIMIT_INFORMATION)
  FIELD(JOBOBJECT_BASIC_LIMIT_INFORMATION, PerProcessUserTimeLimit)
  FIELD(JOBOBJECT_BASIC_LIMIT_INFORMATION, PerJobUserTimeLimit) FIELD(JOBOBJECT_BASIC_LIMIT_INFORMATION, LimitFlags)
  FIELD(JOBOBJECT_BASIC_LIMIT_INFORMATION, MinimumWorkingSetSize)
  FIELD(JOBOBJECT_BASIC_LIMIT_INFORMATION, MaximumWorkingSetSize)
  FIELD(JOBOBJECT_BASIC_LIMIT_INFORMATION, ActiveProcessLimit) FIELD(JOBOBJECT_BASIC_LIMIT_INFORMATION, Affinity)
  FIELD(JOBOBJECT_BASIC_LIMIT_INFORMATION, PriorityClass) FIELD(JOBOBJECT_BASIC_LIMIT_INFORMATION, SchedulingClass)
  END()

  BEGIN(IO_COUNTERS) FIELD(IO_COUNTERS, ReadOperationCount) FIELD(IO_COUNTERS, WriteOperationCount)
  FIELD(IO_COUNTERS, OtherOperationCount) FIELD(IO_COUNTERS, ReadTransferCount)
  FIELD(IO_COUNTERS, WriteTransferCount) FIELD(IO_COUNTERS, OtherTransferCount) END()

  BEGIN(JOBOBJECT_EXTENDED_LIMIT_INFORMATION)
  FIELD(JOBOBJECT_EXTENDED_LIMIT_INFORMATION, BasicLimitInformation)
  FIELD(JOBOBJECT_EXTENDED_LIMIT_INFORMATION, IoInfo) FIELD(JOBOBJECT_EXTENDED_LIMIT_INFORMATION, ProcessMemoryLimit)
  FIELD(JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobMemoryLimit)
  FIELD(JOBOBJECT_EXTENDED_LIMIT_INFORMATION, PeakProcessMemoryUsed)
  FIELD(JOBOBJECT_EXTENDED_LIMIT_INFORMATION, PeakJobMemoryUsed) END()

  BEGIN(LUID) FIELD(LUID, LowPart) FIELD(LUID, HighPart) END()
  BEGIN(LUID_AND_ATTRIBUTES) FIELD(LUID_AND_ATTRIBUTES, Luid) FIELD(LUID_AND_ATTRIBUTES, Attributes) END()
  BEGIN(TOKEN_PRIVILEGES) FIELD(TOKEN_PRIVILEGES, PrivilegeCount) FIELD(TOKEN_PRIVILEGES, Privileges) END()

  BEGIN(WTS_SESSION_INFOW) FIELD(WTS_SESSION_INFOW, SessionId) FIELD(WTS_SESSION_INFOW, pWinStationName)
  FIELD(WTS_SESSION_INFOW, State) END()
  BEGIN(WTSSESSION_NOTIFICATION) FIELD(WTSSESSION_NOTIFICATION, cbSize) FIELD(WTSSESSION_NOTIFICATION, dwSessionId)
  END()

  BEGIN(SERVICE_STATUS) FIELD(SERVICE_STATUS, dwServiceType) FIELD(SERVICE_STATUS, dwCurrentState)
  FIELD(SERVICE_STATUS, dwControlsAccepted) FIELD(SERVICE_STATUS, dwWin32ExitCode)
  FIELD(SERVICE_STATUS, dwServiceSpecificExitCode) FIELD(SERVICE_STATUS, dwCheckPoint)
  FIELD(SERVICE_STATUS, dwWaitHint) END()
  BEGIN(SERVICE_TABLE_ENTRYW) FIELD(SERVICE_TABLE_ENTRYW, lpServiceName) FIELD(SERVICE_TABLE_ENTRYW, lpServiceProc)
  END()
  BEGIN(SC_ACTION) FIELD(SC_ACTION, Type) FIELD(SC_ACTION, Delay) END()
  BEGIN(SERVICE_FAILURE_ACTIONSW) FIELD(SERVICE_FAILURE_ACTIONSW, dwResetPeriod)
  FIELD(SERVICE_FAILURE_ACTIONSW, lpRebootMsg) FIELD(SERVICE_FAILURE_ACTIONSW, lpCommand)
  FIELD(SERVICE_FAILURE_ACTIONSW, cActions) FIELD(SERVICE_FAILURE_ACTIONSW, lpsaActions) END()
  BEGIN(SERVICE_DESCRIPTIONW) FIELD(SERVICE_DESCRIPTIONW, lpDescription) END()

  BEGIN(MOUSEINPUT) FIELD(MOUSEINPUT, dx) FIELD(MOUSEINPUT, dy) FIELD(MOUSEINPUT, mouseData)
  FIELD(MOUSEINPUT, dwFlags) FIELD(MOUSEINPUT, time) FIELD(MOUSEINPUT, dwExtraInfo) END()
  BEGIN(KEYBDINPUT) FIELD(KEYBDINPUT, wVk) FIELD(KEYBDINPUT, wScan) FIELD(KEYBDINPUT, dwFlags)
  FIELD(KEYBDINPUT, time) FIELD(KEYBDINPUT, dwExtraInfo) END()
  BEGIN(HARDWAREINPUT) FIELD(HARDWAREINPUT, uMsg) FIELD(HARDWAREINPUT, wParamL) FIELD(HARDWAREINPUT, wParamH) END()
  BEGIN(INPUT) FIELD(INPUT, type) FIELD_AS(INPUT, mi, "u") END()

  BEGIN(BITMAPINFOHEADER) FIELD(BITMAPINFOHEADER, biSize) FIELD(BITMAPINFOHEADER, biWidth)
  FIELD(BITMAPINFOHEADER, biHeight) FIELD(BITMAPINFOHEADER, biPlanes) FIELD(BITMAPINFOHEADER, biBitCount)
  FIELD(BITMAPINFOHEADER, biCompression) FIELD(BITMAPINFOHEADER, biSizeImage)
  FIELD(BITMAPINFOHEADER, biXPelsPerMeter) FIELD(BITMAPINFOHEADER, biYPelsPerMeter)
  FIELD(BITMAPINFOHEADER, biClrUsed) FIELD(BITMAPINFOHEADER, biClrImportant) END()
  BEGIN(POINT) FIELD(POINT, x) FIELD(POINT, y) END()
  BEGIN(DXGI_OUTDUPL_POINTER_POSITION) FIELD(DXGI_OUTDUPL_POINTER_POSITION, Position)
  FIELD(DXGI_OUTDUPL_POINTER_POSITION, Visible) END()
  BEGIN(DXGI_OUTDUPL_FRAME_INFO) FIELD(DXGI_OUTDUPL_FRAME_INFO, LastPresentTime)
  FIELD(DXGI_OUTDUPL_FRAME_INFO, LastMouseUpdateTime) FIELD(DXGI_OUTDUPL_FRAME_INFO, AccumulatedFrames)
  FIELD(DXGI_OUTDUPL_FRAME_INFO, RectsCoalesced) FIELD(DXGI_OUTDUPL_FRAME_INFO, ProtectedContentMaskedOut)
  FIELD(DXGI_OUTDUPL_FRAME_INFO, PointerPosition) FIELD(DXGI_OUTDUPL_FRAME_INFO, TotalMetadataBufferSize)
  FIELD(DXGI_OUTDUPL_FRAME_INFO, PointerShapeBufferSize) END()
  /* Desktop capture and input (issue 7). */
  BEGIN(RECT) FIELD(RECT, left) FIELD(RECT, top) FIELD(RECT, right) FIELD(RECT, bottom) END()
  BEGIN(MONITORINFOEXW) FIELD(MONITORINFOEXW, cbSize) FIELD(MONITORINFOEXW, rcMonitor)
  FIELD(MONITORINFOEXW, rcWork) FIELD(MONITORINFOEXW, dwFlags) FIELD(MONITORINFOEXW, szDevice) END()
  BEGIN(CURSORINFO) FIELD(CURSORINFO, cbSize) FIELD(CURSORINFO, flags) FIELD(CURSORINFO, hCursor)
  FIELD(CURSORINFO, ptScreenPos) END()
  BEGIN(ICONINFO) FIELD(ICONINFO, fIcon) FIELD(ICONINFO, xHotspot) FIELD(ICONINFO, yHotspot)
  FIELD(ICONINFO, hbmMask) FIELD(ICONINFO, hbmColor) END()
  BEGIN(BITMAP) FIELD(BITMAP, bmType) FIELD(BITMAP, bmWidth) FIELD(BITMAP, bmHeight)
  FIELD(BITMAP, bmWidthBytes) FIELD(BITMAP, bmPlanes) FIELD(BITMAP, bmBitsPixel) FIELD(BITMAP, bmBits) END()
  BEGIN(GUID) FIELD(GUID, Data1) FIELD(GUID, Data2) FIELD(GUID, Data3) FIELD(GUID, Data4) END()
  BEGIN(DXGI_OUTPUT_DESC) FIELD(DXGI_OUTPUT_DESC, DeviceName) FIELD(DXGI_OUTPUT_DESC, DesktopCoordinates)
  FIELD(DXGI_OUTPUT_DESC, AttachedToDesktop) FIELD(DXGI_OUTPUT_DESC, Rotation)
  FIELD(DXGI_OUTPUT_DESC, Monitor) END()
  BEGIN(DXGI_OUTDUPL_MOVE_RECT) FIELD(DXGI_OUTDUPL_MOVE_RECT, SourcePoint)
  FIELD(DXGI_OUTDUPL_MOVE_RECT, DestinationRect) END()
  BEGIN(D3D11_TEXTURE2D_DESC) FIELD(D3D11_TEXTURE2D_DESC, Width) FIELD(D3D11_TEXTURE2D_DESC, Height)
  FIELD(D3D11_TEXTURE2D_DESC, MipLevels) FIELD(D3D11_TEXTURE2D_DESC, ArraySize)
  FIELD(D3D11_TEXTURE2D_DESC, Format) FIELD(D3D11_TEXTURE2D_DESC, SampleDesc)
  FIELD(D3D11_TEXTURE2D_DESC, Usage) FIELD(D3D11_TEXTURE2D_DESC, BindFlags)
  FIELD(D3D11_TEXTURE2D_DESC, CPUAccessFlags) FIELD(D3D11_TEXTURE2D_DESC, MiscFlags) END()
  BEGIN(D3D11_MAPPED_SUBRESOURCE) FIELD(D3D11_MAPPED_SUBRESOURCE, pData)
  FIELD(D3D11_MAPPED_SUBRESOURCE, RowPitch) FIELD(D3D11_MAPPED_SUBRESOURCE, DepthPitch) END()
  /* Issue 14: the job's process list, the failure-actions flag, a handle's granted access. */
  BEGIN(JOBOBJECT_BASIC_PROCESS_ID_LIST) FIELD(JOBOBJECT_BASIC_PROCESS_ID_LIST, NumberOfAssignedProcesses)
  FIELD(JOBOBJECT_BASIC_PROCESS_ID_LIST, NumberOfProcessIdsInList) FIELD(JOBOBJECT_BASIC_PROCESS_ID_LIST, ProcessIdList)
  END()
  BEGIN(SERVICE_FAILURE_ACTIONS_FLAG) FIELD(SERVICE_FAILURE_ACTIONS_FLAG, fFailureActionsOnNonCrashFailures) END()
  BEGIN(PUBLIC_OBJECT_BASIC_INFORMATION) FIELD(PUBLIC_OBJECT_BASIC_INFORMATION, Attributes)
  FIELD(PUBLIC_OBJECT_BASIC_INFORMATION, GrantedAccess) FIELD(PUBLIC_OBJECT_BASIC_INFORMATION, HandleCount)
  FIELD(PUBLIC_OBJECT_BASIC_INFORMATION, PointerCount) FIELD(PUBLIC_OBJECT_BASIC_INFORMATION, Reserved) END()
  /* Issue 14, DXGI adapters and the clipboard owner window: the adapter description EnumAdapters1
     hands out, and the class of the message-only window. */
  BEGIN(DXGI_ADAPTER_DESC1) FIELD(DXGI_ADAPTER_DESC1, Description) FIELD(DXGI_ADAPTER_DESC1, VendorId)
  FIELD(DXGI_ADAPTER_DESC1, DeviceId) FIELD(DXGI_ADAPTER_DESC1, SubSysId) FIELD(DXGI_ADAPTER_DESC1, Revision)
  FIELD(DXGI_ADAPTER_DESC1, DedicatedVideoMemory) FIELD(DXGI_ADAPTER_DESC1, DedicatedSystemMemory)
  FIELD(DXGI_ADAPTER_DESC1, SharedSystemMemory) FIELD(DXGI_ADAPTER_DESC1, AdapterLuid)
  FIELD(DXGI_ADAPTER_DESC1, Flags) END()
  BEGIN(WNDCLASSEXW) FIELD(WNDCLASSEXW, cbSize) FIELD(WNDCLASSEXW, style) FIELD(WNDCLASSEXW, lpfnWndProc)
  FIELD(WNDCLASSEXW, cbClsExtra) FIELD(WNDCLASSEXW, cbWndExtra) FIELD(WNDCLASSEXW, hInstance)
  FIELD(WNDCLASSEXW, hIcon) FIELD(WNDCLASSEXW, hCursor) FIELD(WNDCLASSEXW, hbrBackground)
  FIELD(WNDCLASSEXW, lpszMenuName) FIELD(WNDCLASSEXW, lpszClassName) FIELD(WNDCLASSEXW, hIconSm) END()
  BEGIN(MSG) FIELD(MSG, hwnd) FIELD(MSG, message) FIELD(MSG, wParam) FIELD(MSG, lParam) FIELD(MSG, time)
  FIELD(MSG, pt) END()
  /* Issue 15: Media Foundation's H.264 encoder. VARIANT's members sit in anonymous unions; porthole's flat
     declaration names the ones it uses (the value at ullVal, the union's last pointer pRecInfo). */
  BEGIN(MFT_REGISTER_TYPE_INFO) FIELD(MFT_REGISTER_TYPE_INFO, guidMajorType) FIELD(MFT_REGISTER_TYPE_INFO, guidSubtype)
  END()
  BEGIN(MFT_OUTPUT_STREAM_INFO) FIELD(MFT_OUTPUT_STREAM_INFO, dwFlags) FIELD(MFT_OUTPUT_STREAM_INFO, cbSize)
  FIELD(MFT_OUTPUT_STREAM_INFO, cbAlignment) END()
  BEGIN(MFT_OUTPUT_DATA_BUFFER) FIELD(MFT_OUTPUT_DATA_BUFFER, dwStreamID) FIELD(MFT_OUTPUT_DATA_BUFFER, pSample)
  FIELD(MFT_OUTPUT_DATA_BUFFER, dwStatus) FIELD(MFT_OUTPUT_DATA_BUFFER, pEvents) END()
  BEGIN(VARIANT) FIELD(VARIANT, vt) FIELD(VARIANT, wReserved1) FIELD(VARIANT, wReserved2) FIELD(VARIANT, wReserved3)
  FIELD(VARIANT, ullVal) FIELD(VARIANT, pRecInfo) END()
  /* Issue 20: WASAPI loopback. WAVEFORMATEX is byte-packed (18 bytes). */
  BEGIN(WAVEFORMATEX) FIELD(WAVEFORMATEX, wFormatTag) FIELD(WAVEFORMATEX, nChannels)
  FIELD(WAVEFORMATEX, nSamplesPerSec) FIELD(WAVEFORMATEX, nAvgBytesPerSec) FIELD(WAVEFORMATEX, nBlockAlign)
  FIELD(WAVEFORMATEX, wBitsPerSample) FIELD(WAVEFORMATEX, cbSize) END()
  printf("}\n");
  return 0;
}
