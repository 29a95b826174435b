/**
 * `MfApi` through koffi: Media Foundation's COM calls behind the MF encoder. Every interface pointer is
 * a `ComRef` (com.ts), released exactly once; the Wine tests check `liveComRefs()` after each path.
 *
 * Documented rules this relies on: MFStartup before any other MF call (and COM initialised on the
 * thread); an asynchronous MFT refuses every call until MF_TRANSFORM_ASYNC_UNLOCK is set, takes input
 * only after METransformNeedInput and gives output only after METransformHaveOutput; an MFT whose
 * output stream info lacks MFT_OUTPUT_STREAM_PROVIDES_SAMPLES needs the caller's sample; an
 * IMFActivate's object is shut down with ShutdownObject; what MFTEnumEx and GetAllocated* hand out is
 * freed with CoTaskMemFree.
 */
import koffi from 'koffi';
import { ComRef, type GuidFields } from '../../native/win32/com.js';
import { readWideString } from '../../native/win32/library.js';
import { IMFActivate, IMFAttributes } from '../../native/win32/mf-interfaces.js';
import {
  COINIT_MULTITHREADED,
  IID_IMFTransform,
  MFMediaType_Video,
  MFSTARTUP_FULL,
  MFT_CATEGORY_VIDEO_DECODER,
  MFT_CATEGORY_VIDEO_ENCODER,
  MFT_ENUM_FLAG,
  MFT_FRIENDLY_NAME_Attribute,
  MFVideoFormat_H264,
  MFVideoFormat_NV12,
  MF_VERSION,
  RPC_E_CHANGED_MODE,
} from '../../native/win32/mf-types.js';
import { mfplat, ole32 } from '../../native/win32/mfplat.js';
import { Win32Error } from '../../native/win32/win32-error.js';
import type { MfActivation, MfApi, MfTransform, MfTransformKind } from './mf-api.js';
import { hr, invoke, KoffiTransform } from './win32-mf-transform.js';

let started = false;

/** COM on this thread (any apartment it already has) and MFStartup, once per process; never shut down. */
export function startMediaFoundation(): void {
  if (started) return;
  const co = ole32().CoInitializeEx(null, COINIT_MULTITHREADED) as number;
  if (co < 0 && co !== RPC_E_CHANGED_MODE) throw new Win32Error('CoInitializeEx', co, { hresult: true });
  hr('MFStartup', mfplat().MFStartup(MF_VERSION, MFSTARTUP_FULL));
  started = true;
}

/** An attribute's string (GetAllocatedString), freed; undefined when absent. */
function allocatedString(attrs: ComRef, key: GuidFields): string | undefined {
  const out: unknown[] = [null];
  const len = [0];
  if ((invoke(attrs, IMFAttributes.GetAllocatedString, key, out, len) as number) < 0) return undefined;
  try {
    return readWideString(out[0]);
  } finally {
    ole32().CoTaskMemFree(out[0]);
  }
}

/** MFTEnumEx's arguments for each kind. */
function enumArgs(kind: MfTransformKind): {
  category: GuidFields;
  flags: number;
  input: GuidFields;
  output: GuidFields;
} {
  const sorted = MFT_ENUM_FLAG.SORTANDFILTER;
  if (kind === 'decoder')
    return {
      category: MFT_CATEGORY_VIDEO_DECODER,
      flags: MFT_ENUM_FLAG.SYNCMFT | sorted,
      input: MFVideoFormat_H264,
      output: MFVideoFormat_NV12,
    };
  return {
    category: MFT_CATEGORY_VIDEO_ENCODER,
    flags: (kind === 'hardware-encoder' ? MFT_ENUM_FLAG.HARDWARE : MFT_ENUM_FLAG.SYNCMFT) | sorted,
    input: MFVideoFormat_NV12,
    output: MFVideoFormat_H264,
  };
}

export const koffiMfApi: MfApi = {
  enumerate(kind) {
    startMediaFoundation();
    const { category, flags, input, output } = enumArgs(kind);
    const array: unknown[] = [null];
    const count = [0];
    hr(
      'MFTEnumEx',
      mfplat().MFTEnumEx(
        category,
        flags,
        { guidMajorType: MFMediaType_Video, guidSubtype: input },
        { guidMajorType: MFMediaType_Video, guidSubtype: output },
        array,
        count,
      ),
    );
    const n = count[0] ?? 0;
    if (n === 0 || array[0] == null) return [];
    const pointers = koffi.decode(array[0], 'void *', n) as unknown[];
    const found: MfActivation[] = [];
    try {
      for (const p of pointers)
        found.push(new KoffiActivation(new ComRef(p, 'IMFActivate'), kind === 'hardware-encoder'));
    } finally {
      ole32().CoTaskMemFree(array[0]);
    }
    return found;
  },
};

class KoffiActivation implements MfActivation {
  readonly name: string;
  private released = false;

  constructor(
    private readonly ref: ComRef,
    readonly hardware: boolean,
  ) {
    this.name = allocatedString(ref, MFT_FRIENDLY_NAME_Attribute) ?? 'unnamed MFT';
  }

  activate(): MfTransform {
    if (this.released) throw new Error(`${this.name}: activation used after release`);
    const out: unknown[] = [null];
    hr(
      `IMFActivate::ActivateObject(${this.name})`,
      invoke(this.ref, IMFActivate.ActivateObject, IID_IMFTransform, out),
    );
    return new KoffiTransform(new ComRef(out[0], 'IMFTransform'), this.ref);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.ref.release();
  }
}
