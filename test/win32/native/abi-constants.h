/*
 * The second half of abi-probe.c: `abi-probe.exe constants` prints, as JSON, the value the Windows
 * headers of mingw-w64 give every Win32 constant porthole defines, and the IIDs it uses.
 * test/win32/constants.test.ts compares each with the export in src/native/win32 it stands for;
 * test/native/win32/constants.test.ts (Linux) checks that this list names exactly those constants.
 * One C(NAME) per constant, grouped by the porthole module that defines it.
 */
#include <sddl.h>
#include <aclapi.h>
#include <winternl.h>
#include <stdint.h>
#include <string.h>

static int first_constant = 1;

/* Each value as a decimal string (JSON numbers lose 64-bit precision), by the C type of the macro. */
static void emit_signed(const char *name, long long v) {
  printf("%s\"%s\":\"%lld\"", first_constant ? "" : ",", name, v);
  first_constant = 0;
}
static void emit_unsigned(const char *name, unsigned long long v) {
  printf("%s\"%s\":\"%llu\"", first_constant ? "" : ",", name, v);
  first_constant = 0;
}
/* Pointer-valued macros (HKEY_LOCAL_MACHINE, INVALID_HANDLE_VALUE, DPI_AWARENESS_CONTEXT_*): signed. */
static void emit_pointer(const char *name, const void *v) { emit_signed(name, (long long)(intptr_t)v); }

#define C(name)                                                                                      \
  _Generic((name),                                                                                   \
      signed char: emit_signed, short: emit_signed, int: emit_signed, long: emit_signed,             \
      long long: emit_signed, unsigned char: emit_unsigned, unsigned short: emit_unsigned,           \
      unsigned int: emit_unsigned, unsigned long: emit_unsigned, unsigned long long: emit_unsigned,  \
      default: emit_pointer)(#name, name);

static void emit_guid(const char *name, const GUID *g) {
  printf("%s\"%s\":\"%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x\"", first_constant ? "" : ",", name,
         (unsigned long)g->Data1, g->Data2, g->Data3, g->Data4[0], g->Data4[1], g->Data4[2], g->Data4[3],
         g->Data4[4], g->Data4[5], g->Data4[6], g->Data4[7]);
  first_constant = 0;
}
#define G(name) emit_guid(#name, &name);
/* codecapi.h declares CODECAPI_* GUIDs for C++ only; C has their STATIC_CODECAPI_* initialisers. */
static GUID make_guid(unsigned long l, unsigned short w1, unsigned short w2, unsigned char b1, unsigned char b2,
                      unsigned char b3, unsigned char b4, unsigned char b5, unsigned char b6, unsigned char b7,
                      unsigned char b8) {
  GUID g = {l, w1, w2, {b1, b2, b3, b4, b5, b6, b7, b8}};
  return g;
}
#define GS(name)                                                                                     \
  {                                                                                                  \
    GUID g_##name = make_guid(STATIC_##name);                                                        \
    emit_guid(#name, &g_##name);                                                                     \
  }

static int print_constants(void) {
  printf("{\"constants\":{");
  /* d3d11.ts */
  C(D3D11_CPU_ACCESS_READ) C(D3D11_CREATE_DEVICE_BGRA_SUPPORT) C(D3D11_MAP_READ) C(D3D11_SDK_VERSION)
  C(D3D11_USAGE_STAGING) C(D3D_DRIVER_TYPE_HARDWARE) C(D3D_DRIVER_TYPE_UNKNOWN)
  /* dxgi.ts */
  C(DXGI_ADAPTER_FLAG_SOFTWARE) C(DXGI_ERROR_NOT_FOUND) C(DXGI_ERROR_MORE_DATA) C(DXGI_ERROR_UNSUPPORTED)
  C(DXGI_ERROR_ACCESS_LOST) C(DXGI_ERROR_WAIT_TIMEOUT) C(DXGI_ERROR_NOT_CURRENTLY_AVAILABLE)
  C(DXGI_ERROR_SESSION_DISCONNECTED) C(DXGI_ERROR_INVALID_CALL) C(DXGI_ERROR_DEVICE_REMOVED)
  C(DXGI_ERROR_DEVICE_HUNG) C(DXGI_ERROR_DEVICE_RESET) C(DXGI_ERROR_DRIVER_INTERNAL_ERROR) C(E_ACCESSDENIED)
  C(E_INVALIDARG) C(E_NOTIMPL)
  /* event-log.ts */
  C(EVENTLOG_ERROR_TYPE) C(EVENTLOG_INFORMATION_TYPE) C(EVENTLOG_WARNING_TYPE)
  /* file-security.ts */
  C(PROTECTED_DACL_SECURITY_INFORMATION) C(SE_FILE_OBJECT)
  /* gdi32.ts */
  C(BI_RGB) C(CAPTUREBLT) C(DIB_RGB_COLORS) C(SRCCOPY)
  /* input-structs.ts */
  C(INPUT_KEYBOARD) C(INPUT_MOUSE) C(KEYEVENTF_EXTENDEDKEY) C(KEYEVENTF_KEYUP) C(KEYEVENTF_UNICODE)
  C(KEYEVENTF_SCANCODE) C(MOUSEEVENTF_MOVE) C(MOUSEEVENTF_LEFTDOWN) C(MOUSEEVENTF_LEFTUP)
  C(MOUSEEVENTF_RIGHTDOWN) C(MOUSEEVENTF_RIGHTUP) C(MOUSEEVENTF_MIDDLEDOWN) C(MOUSEEVENTF_MIDDLEUP)
  C(MOUSEEVENTF_XDOWN) C(MOUSEEVENTF_XUP) C(MOUSEEVENTF_WHEEL) C(MOUSEEVENTF_HWHEEL)
  C(MOUSEEVENTF_VIRTUALDESK) C(MOUSEEVENTF_ABSOLUTE) C(WHEEL_DELTA) C(XBUTTON1) C(XBUTTON2)
  /* kernel32-desktop.ts */
  C(GMEM_MOVEABLE)
  /* kernel32.ts */
  C(ERROR_BROKEN_PIPE) C(ERROR_IO_INCOMPLETE) C(ERROR_IO_PENDING) C(ERROR_MORE_DATA)
  C(ERROR_NO_DATA) C(ERROR_OPERATION_ABORTED) C(ERROR_PIPE_CONNECTED) C(ERROR_PIPE_NOT_CONNECTED)
  C(FILE_APPEND_DATA) C(FILE_ATTRIBUTE_NORMAL) C(FILE_FLAG_FIRST_PIPE_INSTANCE) C(FILE_FLAG_OVERLAPPED)
  C(FILE_SHARE_READ) C(FILE_SHARE_WRITE) C(GENERIC_READ) C(GENERIC_WRITE) C(HANDLE_FLAG_INHERIT) C(INFINITE)
  C(JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE) C(JobObjectBasicProcessIdList) C(JobObjectExtendedLimitInformation)
  C(MAXIMUM_WAIT_OBJECTS) C(OPEN_ALWAYS) C(OPEN_EXISTING) C(PIPE_ACCESS_DUPLEX) C(PIPE_READMODE_BYTE)
  C(PIPE_REJECT_REMOTE_CLIENTS) C(PIPE_TYPE_BYTE) C(PIPE_WAIT) C(STATUS_PENDING) C(STILL_ACTIVE)
  C(WAIT_FAILED) C(WAIT_OBJECT_0) C(WAIT_TIMEOUT)
  /* library.ts */
  C(INVALID_HANDLE_VALUE)
  /* mf-types.ts (issue 15) */
  C(MF_VERSION) C(MFSTARTUP_FULL) C(E_NOINTERFACE) C(COINIT_MULTITHREADED) C(RPC_E_CHANGED_MODE) C(MFT_ENUM_FLAG_SYNCMFT)
  C(MFT_ENUM_FLAG_ASYNCMFT) C(MFT_ENUM_FLAG_HARDWARE) C(MFT_ENUM_FLAG_SORTANDFILTER)
  C(MFT_OUTPUT_STREAM_PROVIDES_SAMPLES) C(MFT_OUTPUT_STREAM_CAN_PROVIDE_SAMPLES) C(MFT_MESSAGE_COMMAND_FLUSH)
  C(MFT_MESSAGE_COMMAND_DRAIN) C(MFT_MESSAGE_NOTIFY_BEGIN_STREAMING) C(MFT_MESSAGE_NOTIFY_END_STREAMING)
  C(MFT_MESSAGE_NOTIFY_END_OF_STREAM) C(MFT_MESSAGE_NOTIFY_START_OF_STREAM) C(MF_EVENT_FLAG_NO_WAIT) C(MEError)
  C(METransformNeedInput) C(METransformHaveOutput) C(METransformDrainComplete) C(MF_E_INVALIDMEDIATYPE)
  C(MF_E_NOTACCEPTING) C(MF_E_NO_MORE_TYPES) C(MF_E_ATTRIBUTENOTFOUND) C(MF_E_NO_EVENTS_AVAILABLE)
  C(MF_E_TRANSFORM_TYPE_NOT_SET) C(MF_E_TRANSFORM_STREAM_CHANGE) C(MF_E_TRANSFORM_NEED_MORE_INPUT)
  C(MFVideoInterlace_Progressive) C(MFVideoTransferMatrix_BT601) C(MFNominalRange_16_235)
  C(eAVEncCommonRateControlMode_CBR) C(eAVEncH264VProfile_Base) C(eAVEncH264VProfile_Main)
  C(eAVEncH264VProfile_High) C(eAVEncH264VProfile_ConstrainedBase) C(VT_BOOL) C(VT_UI4) C(VARIANT_TRUE)
  /* ntdll.ts */
  C(ObjectBasicInformation)
  /* pipe-client.ts */
  C(PROCESS_QUERY_LIMITED_INFORMATION) C(SECURITY_IDENTIFICATION) C(SECURITY_SQOS_PRESENT)
  /* registry.ts */
  C(ERROR_FILE_NOT_FOUND) C(HKEY_LOCAL_MACHINE) C(RRF_RT_REG_DWORD)
  /* security.ts */
  C(DACL_SECURITY_INFORMATION) C(GROUP_SECURITY_INFORMATION) C(OWNER_SECURITY_INFORMATION) C(SDDL_REVISION_1)
  C(SE_KERNEL_OBJECT) C(TokenUser)
  /* service-control.ts */
  C(DELETE) C(ERROR_CALL_NOT_IMPLEMENTED) C(ERROR_INSUFFICIENT_BUFFER) C(ERROR_INVALID_LEVEL)
  C(ERROR_SERVICE_ALREADY_RUNNING) C(ERROR_SERVICE_DOES_NOT_EXIST) C(ERROR_SERVICE_MARKED_FOR_DELETE)
  C(ERROR_SERVICE_NOT_ACTIVE) C(ERROR_SERVICE_SPECIFIC_ERROR) C(NO_ERROR) C(SC_ACTION_RESTART)
  C(SC_MANAGER_CONNECT) C(SC_MANAGER_CREATE_SERVICE) C(SC_STATUS_PROCESS_INFO)
  C(SERVICE_ACCEPT_SESSIONCHANGE) C(SERVICE_ACCEPT_SHUTDOWN) C(SERVICE_ACCEPT_STOP) C(SERVICE_ALL_ACCESS)
  C(SERVICE_AUTO_START) C(SERVICE_BOOT_START) C(SERVICE_CHANGE_CONFIG) C(SERVICE_CONFIG_DESCRIPTION)
  C(SERVICE_CONFIG_FAILURE_ACTIONS) C(SERVICE_CONFIG_FAILURE_ACTIONS_FLAG) C(SERVICE_CONTINUE_PENDING)
  C(SERVICE_CONTROL_INTERROGATE) C(SERVICE_CONTROL_SESSIONCHANGE) C(SERVICE_CONTROL_SHUTDOWN)
  C(SERVICE_CONTROL_STOP) C(SERVICE_DEMAND_START) C(SERVICE_DISABLED) C(SERVICE_ERROR_NORMAL)
  C(SERVICE_NO_CHANGE) C(SERVICE_PAUSED) C(SERVICE_PAUSE_PENDING) C(SERVICE_QUERY_CONFIG)
  C(SERVICE_QUERY_STATUS) C(SERVICE_RUNNING) C(SERVICE_START) C(SERVICE_START_PENDING) C(SERVICE_STOP)
  C(SERVICE_STOPPED) C(SERVICE_STOP_PENDING) C(SERVICE_SYSTEM_START) C(SERVICE_WIN32_OWN_PROCESS)
  C(WTS_CONSOLE_CONNECT) C(WTS_CONSOLE_DISCONNECT) C(WTS_REMOTE_CONNECT) C(WTS_REMOTE_DISCONNECT)
  C(WTS_SESSION_LOGON) C(WTS_SESSION_LOGOFF) C(WTS_SESSION_LOCK) C(WTS_SESSION_UNLOCK)
  C(WTS_SESSION_REMOTE_CONTROL) C(WTS_SESSION_CREATE) C(WTS_SESSION_TERMINATE)
  /* token.ts */
  C(CREATE_BREAKAWAY_FROM_JOB) C(CREATE_NEW_PROCESS_GROUP) C(CREATE_NO_WINDOW) C(CREATE_SUSPENDED)
  C(CREATE_UNICODE_ENVIRONMENT) C(ERROR_NOT_ALL_ASSIGNED) C(MAXIMUM_ALLOWED) C(SE_PRIVILEGE_ENABLED)
  C(STARTF_USESHOWWINDOW) C(STARTF_USESTDHANDLES) C(SW_HIDE) C(SecurityImpersonation) C(TOKEN_ADJUST_DEFAULT)
  C(TOKEN_ADJUST_PRIVILEGES) C(TOKEN_ADJUST_SESSIONID) C(TOKEN_ALL_ACCESS) C(TOKEN_ASSIGN_PRIMARY)
  C(TOKEN_DUPLICATE) C(TOKEN_QUERY) C(TokenPrimary) C(TokenSessionId)
  C(SecurityIdentification) C(TOKEN_IMPERSONATE) C(TokenImpersonation) C(TokenImpersonationLevel)
  /* user32-window.ts */
  C(ERROR_CLASS_ALREADY_EXISTS) C(HWND_MESSAGE)
  /* user32.ts */
  C(CF_UNICODETEXT) C(CURSOR_SHOWING) C(DESKTOP_CREATEMENU) C(DESKTOP_CREATEWINDOW) C(DESKTOP_ENUMERATE)
  C(DESKTOP_HOOKCONTROL) C(DESKTOP_JOURNALPLAYBACK) C(DESKTOP_JOURNALRECORD) C(DESKTOP_READOBJECTS)
  C(DESKTOP_SWITCHDESKTOP) C(DESKTOP_WRITEOBJECTS) C(DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE)
  C(DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2) C(MAPVK_VSC_TO_VK_EX) C(MONITORINFOF_PRIMARY) C(SM_CXSCREEN)
  C(SM_CYSCREEN) C(SM_XVIRTUALSCREEN) C(SM_YVIRTUALSCREEN) C(SM_CXVIRTUALSCREEN) C(SM_CYVIRTUALSCREEN)
  C(SM_CMONITORS) C(UOI_NAME)
  /* win32-error.ts */
  C(ERROR_SUCCESS) C(ERROR_ACCESS_DENIED) C(ERROR_INVALID_HANDLE) C(ERROR_INVALID_PARAMETER)
  C(ERROR_ALREADY_EXISTS) C(ERROR_PIPE_BUSY) C(ERROR_NO_TOKEN) C(ERROR_SERVICE_CANNOT_ACCEPT_CTRL)
  C(ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) C(ERROR_SERVICE_EXISTS) C(ERROR_PRIVILEGE_NOT_HELD)
  C(RPC_S_SERVER_UNAVAILABLE) C(ERROR_CTX_WINSTATION_NOT_FOUND)
  /* wtsapi32.ts */
  C(WTSWinStationName) C(WTSUserName) C(WTSDomainName) C(WTSConnectState) C(WTSClientProtocolType)
  C(WTSActive) C(WTSConnected) C(WTSConnectQuery) C(WTSShadow) C(WTSDisconnected) C(WTSIdle) C(WTSListen)
  C(WTSReset) C(WTSDown) C(WTSInit) C(WTS_PROTOCOL_TYPE_CONSOLE) C(WTS_PROTOCOL_TYPE_RDP)
  printf("},\"guids\":{");
  first_constant = 1;
  /* IIDs */
  G(IID_ID3D11Texture2D) G(IID_IDXGIDevice) G(IID_IDXGIFactory1) G(IID_IDXGIOutput1) G(IID_IDXGIResource)
  /* Media Foundation (mf-types.ts, issue 15) */
  G(IID_IMFTransform) G(IID_IMFMediaEventGenerator) G(IID_ICodecAPI) G(MFT_CATEGORY_VIDEO_ENCODER)
  G(MFT_CATEGORY_VIDEO_DECODER) G(MFMediaType_Video) G(MFVideoFormat_H264) G(MFVideoFormat_NV12)
  G(MF_MT_MAJOR_TYPE) G(MF_MT_SUBTYPE) G(MF_MT_FRAME_SIZE) G(MF_MT_FRAME_RATE) G(MF_MT_PIXEL_ASPECT_RATIO)
  G(MF_MT_INTERLACE_MODE) G(MF_MT_AVG_BITRATE) G(MF_MT_MPEG2_PROFILE) G(MF_MT_MPEG2_LEVEL)
  G(MF_MT_MPEG_SEQUENCE_HEADER) G(MF_MT_DEFAULT_STRIDE) G(MF_MT_YUV_MATRIX) G(MF_MT_VIDEO_NOMINAL_RANGE)
  G(MF_LOW_LATENCY) G(MFSampleExtension_CleanPoint) G(MF_TRANSFORM_ASYNC) G(MF_TRANSFORM_ASYNC_UNLOCK)
  G(MFT_FRIENDLY_NAME_Attribute) G(MFT_ENUM_HARDWARE_URL_Attribute)
  GS(CODECAPI_AVEncCommonRateControlMode) GS(CODECAPI_AVEncCommonMeanBitRate) GS(CODECAPI_AVEncCommonMaxBitRate)
  GS(CODECAPI_AVLowLatencyMode) GS(CODECAPI_AVEncVideoForceKeyFrame) GS(CODECAPI_AVEncMPVGOPSize)
  GS(CODECAPI_AVEncMPVDefaultBPictureCount)

  printf("}}\n");
  return 0;
}
