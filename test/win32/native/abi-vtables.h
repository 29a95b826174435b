/*
 * The third part of abi-probe.c: `abi-probe.exe vtables` prints, as JSON, the vtable slot of every COM
 * method porthole calls through koffi (ComRef.call(slot, …)), as the C interfaces of mingw-w64's
 * dxgi.h, dxgi1_2.h, d3d11.h and the Media Foundation headers lay out their *Vtbl structs: offsetof(IXxxVtbl, Method) / sizeof(void *).
 * test/win32/abi.test.ts compares them with WIN32_VTABLES (src/native/win32/abi.ts).
 */

static int first_interface = 1, first_method;

#define IFACE(I)                                                                                     \
  printf("%s\"%s\":{", first_interface ? "" : ",", #I);                                              \
  first_interface = 0;                                                                               \
  first_method = 1;
#define SLOT(I, m)                                                                                   \
  printf("%s\"%s\":%u", first_method ? "" : ",", #m, (unsigned)(offsetof(I##Vtbl, m) / sizeof(void *))); \
  first_method = 0;
#define IEND() printf("}");

static int print_vtables(void) {
  printf("{");
  IFACE(IUnknown) SLOT(IUnknown, QueryInterface) SLOT(IUnknown, Release) IEND()
  IFACE(IDXGIFactory1) SLOT(IDXGIFactory1, EnumAdapters1) SLOT(IDXGIFactory1, IsCurrent) IEND()
  IFACE(IDXGIAdapter) SLOT(IDXGIAdapter, EnumOutputs) IEND()
  IFACE(IDXGIAdapter1) SLOT(IDXGIAdapter1, GetDesc1) IEND()
  IFACE(IDXGIDevice) SLOT(IDXGIDevice, GetAdapter) IEND()
  IFACE(IDXGIOutput1) SLOT(IDXGIOutput1, GetDesc) SLOT(IDXGIOutput1, DuplicateOutput) IEND()
  IFACE(IDXGIOutputDuplication) SLOT(IDXGIOutputDuplication, AcquireNextFrame)
  SLOT(IDXGIOutputDuplication, GetFrameDirtyRects) SLOT(IDXGIOutputDuplication, GetFrameMoveRects)
  SLOT(IDXGIOutputDuplication, ReleaseFrame) IEND()
  IFACE(ID3D11Device) SLOT(ID3D11Device, CreateTexture2D) IEND()
  IFACE(ID3D11Texture2D) SLOT(ID3D11Texture2D, GetDesc) IEND()
  IFACE(ID3D11DeviceContext) SLOT(ID3D11DeviceContext, Map) SLOT(ID3D11DeviceContext, Unmap)
  SLOT(ID3D11DeviceContext, CopyResource) IEND()
  /* Media Foundation (issue 15): mfobjects.h, mftransform.h, icodecapi.h. */
  IFACE(IMFAttributes) SLOT(IMFAttributes, GetUINT32) SLOT(IMFAttributes, GetUINT64) SLOT(IMFAttributes, GetGUID)
  SLOT(IMFAttributes, GetAllocatedString) SLOT(IMFAttributes, GetAllocatedBlob) SLOT(IMFAttributes, SetUINT32)
  SLOT(IMFAttributes, SetUINT64) SLOT(IMFAttributes, SetGUID) IEND()
  IFACE(IMFActivate) SLOT(IMFActivate, ActivateObject) SLOT(IMFActivate, ShutdownObject) IEND()
  IFACE(IMFSample) SLOT(IMFSample, GetSampleTime) SLOT(IMFSample, SetSampleTime) SLOT(IMFSample, SetSampleDuration)
  SLOT(IMFSample, ConvertToContiguousBuffer) SLOT(IMFSample, AddBuffer) IEND()
  IFACE(IMFMediaBuffer) SLOT(IMFMediaBuffer, Lock) SLOT(IMFMediaBuffer, Unlock) SLOT(IMFMediaBuffer, SetCurrentLength)
  IEND()
  IFACE(IMFMediaEvent) SLOT(IMFMediaEvent, GetType) SLOT(IMFMediaEvent, GetStatus) IEND()
  IFACE(IMFMediaEventGenerator) SLOT(IMFMediaEventGenerator, GetEvent) IEND()
  IFACE(IMFTransform) SLOT(IMFTransform, GetOutputStreamInfo) SLOT(IMFTransform, GetAttributes)
  SLOT(IMFTransform, GetOutputAvailableType) SLOT(IMFTransform, SetInputType) SLOT(IMFTransform, SetOutputType)
  SLOT(IMFTransform, GetOutputCurrentType) SLOT(IMFTransform, ProcessMessage) SLOT(IMFTransform, ProcessInput)
  SLOT(IMFTransform, ProcessOutput) IEND()
  IFACE(ICodecAPI) SLOT(ICodecAPI, IsSupported) SLOT(ICodecAPI, GetValue) SLOT(ICodecAPI, SetValue) IEND()
  /* WASAPI loopback (issue 20): mmdeviceapi.h, audioclient.h. */
  IFACE(IMMDeviceEnumerator) SLOT(IMMDeviceEnumerator, GetDefaultAudioEndpoint) IEND()
  IFACE(IMMDevice) SLOT(IMMDevice, Activate) IEND()
  IFACE(IAudioClient) SLOT(IAudioClient, Initialize) SLOT(IAudioClient, GetMixFormat) SLOT(IAudioClient, Start)
  SLOT(IAudioClient, Stop) SLOT(IAudioClient, GetService) IEND()
  IFACE(IAudioCaptureClient) SLOT(IAudioCaptureClient, GetBuffer) SLOT(IAudioCaptureClient, ReleaseBuffer)
  SLOT(IAudioCaptureClient, GetNextPacketSize) IEND()
  printf("}\n");
  return 0;
}
