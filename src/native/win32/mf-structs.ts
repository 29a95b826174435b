/**
 * The structures Media Foundation's transform calls take (mftransform.h, mfobjects.h) and the VARIANT
 * of ICodecAPI::SetValue (oaidl.h), laid out for x64 and checked against mingw-w64 by
 * test/win32/abi.test.ts.
 */
import koffi from 'koffi';
import { GUID } from './com.js';
import './library.js';

/** MFTEnumEx's input/output type filter. */
export const MFT_REGISTER_TYPE_INFO = koffi.struct('MFT_REGISTER_TYPE_INFO', {
  guidMajorType: GUID,
  guidSubtype: GUID,
});

export const MFT_OUTPUT_STREAM_INFO = koffi.struct('MFT_OUTPUT_STREAM_INFO', {
  dwFlags: 'DWORD',
  cbSize: 'DWORD',
  cbAlignment: 'DWORD',
});

/** One output stream's slot for IMFTransform::ProcessOutput (pSample: ours, or the MFT's when it provides). */
export const MFT_OUTPUT_DATA_BUFFER = koffi.struct('MFT_OUTPUT_DATA_BUFFER', {
  dwStreamID: 'DWORD',
  pSample: 'void *',
  dwStatus: 'DWORD',
  pEvents: 'void *',
});

/**
 * VARIANT, flattened: the C type is `vt` and three reserved WORDs followed by a 16-byte union; every
 * value ICodecAPI takes here (VT_UI4, VT_BOOL) sits in its first bytes, written through `ullVal`
 * (little-endian), and `pRecInfo` (the union's last pointer) gives the struct its 24 bytes.
 */
export const VARIANT = koffi.struct('VARIANT', {
  vt: 'uint16_t',
  wReserved1: 'uint16_t',
  wReserved2: 'uint16_t',
  wReserved3: 'uint16_t',
  ullVal: 'uint64_t',
  pRecInfo: 'void *',
});

export interface VariantFields {
  vt: number;
  wReserved1: number;
  wReserved2: number;
  wReserved3: number;
  ullVal: bigint | number;
  pRecInfo: unknown;
}
