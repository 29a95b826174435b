/**
 * d3d11.dll: the device desktop duplication needs, the staging texture frames are copied into, and the
 * immediate context's CopyResource/Map/Unmap. Slots checked against mingw-w64's d3d11.h vtables.
 */
import koffi from 'koffi';
import { guid } from './com.js';
import { lazyLibrary } from './library.js';

export const IID_ID3D11Texture2D = guid('6f15aaf2-d208-4e89-9ab4-489535d34f9c');

/** With an explicit adapter, D3D11CreateDevice requires D3D_DRIVER_TYPE_UNKNOWN (E_INVALIDARG otherwise). */
export const D3D_DRIVER_TYPE_UNKNOWN = 0;
export const D3D_DRIVER_TYPE_HARDWARE = 1;
export const D3D11_SDK_VERSION = 7;
export const D3D11_CREATE_DEVICE_BGRA_SUPPORT = 0x20;
export const D3D11_USAGE_STAGING = 3;
export const D3D11_CPU_ACCESS_READ = 0x20000;
export const D3D11_MAP_READ = 1;

export const D3D11_TEXTURE2D_DESC = koffi.struct('D3D11_TEXTURE2D_DESC', {
  Width: 'UINT',
  Height: 'UINT',
  MipLevels: 'UINT',
  ArraySize: 'UINT',
  Format: 'int',
  SampleDesc: koffi.struct('DXGI_SAMPLE_DESC', { Count: 'UINT', Quality: 'UINT' }),
  Usage: 'int',
  BindFlags: 'UINT',
  CPUAccessFlags: 'UINT',
  MiscFlags: 'UINT',
});

export interface Texture2DDescFields {
  Width: number;
  Height: number;
  MipLevels: number;
  ArraySize: number;
  Format: number;
  SampleDesc: { Count: number; Quality: number };
  Usage: number;
  BindFlags: number;
  CPUAccessFlags: number;
  MiscFlags: number;
}

export const D3D11_MAPPED_SUBRESOURCE = koffi.struct('D3D11_MAPPED_SUBRESOURCE', {
  pData: 'void *',
  RowPitch: 'UINT',
  DepthPitch: 'UINT',
});

/** ID3D11Device */
export const ID3D11Device = {
  CreateTexture2D: [
    5,
    koffi.proto(
      'HRESULT __stdcall PortholeD3D11CreateTexture2D(void *self, const D3D11_TEXTURE2D_DESC *pDesc, void *pInitialData, _Out_ void **ppTexture2D)',
    ),
  ],
} as const;

/** ID3D11Texture2D */
export const ID3D11Texture2D = {
  GetDesc: [
    10,
    koffi.proto(
      'void __stdcall PortholeD3D11Texture2DGetDesc(void *self, _Out_ D3D11_TEXTURE2D_DESC *pDesc)',
    ),
  ],
} as const;

/** ID3D11DeviceContext */
export const ID3D11DeviceContext = {
  Map: [
    14,
    koffi.proto(
      'HRESULT __stdcall PortholeD3D11Map(void *self, void *pResource, UINT Subresource, int MapType, UINT MapFlags, _Out_ D3D11_MAPPED_SUBRESOURCE *pMappedResource)',
    ),
  ],
  Unmap: [
    15,
    koffi.proto('void __stdcall PortholeD3D11Unmap(void *self, void *pResource, UINT Subresource)'),
  ],
  CopyResource: [
    47,
    koffi.proto(
      'void __stdcall PortholeD3D11CopyResource(void *self, void *pDstResource, void *pSrcResource)',
    ),
  ],
} as const;

export const d3d11 = lazyLibrary('d3d11.dll', (lib) => ({
  D3D11CreateDevice: lib.func(
    'HRESULT __stdcall D3D11CreateDevice(void *pAdapter, int DriverType, void *Software, UINT Flags, const int *pFeatureLevels, UINT FeatureLevels, UINT SDKVersion, _Out_ void **ppDevice, _Out_ int *pFeatureLevel, _Out_ void **ppImmediateContext)',
  ),
}));
