/**
 * One Media Foundation transform through koffi (`MfTransform` of mf-api.ts): its attributes, ICodecAPI,
 * media types, samples in and out, and an asynchronous MFT's events. Created by win32-mf-api.ts's
 * activations; every interface pointer is a `ComRef`, released exactly once.
 */
import koffi, { type TypeObject } from 'koffi';
import { ComRef, releaseAll, type GuidFields } from '../../native/win32/com.js';
import {
  ICodecAPI,
  IMFActivate,
  IMFAttributes,
  IMFMediaBuffer,
  IMFMediaEvent,
  IMFMediaEventGenerator,
  IMFSample,
  IMFTransform,
} from '../../native/win32/mf-interfaces.js';
import type { VariantFields } from '../../native/win32/mf-structs.js';
import {
  CODECAPI_AVEncCommonMaxBitRate,
  CODECAPI_AVEncCommonMeanBitRate,
  CODECAPI_AVEncCommonRateControlMode,
  CODECAPI_AVEncMPVDefaultBPictureCount,
  CODECAPI_AVEncMPVGOPSize,
  CODECAPI_AVEncVideoForceKeyFrame,
  CODECAPI_AVLowLatencyMode,
  E_NOINTERFACE,
  IID_ICodecAPI,
  IID_IMFMediaEventGenerator,
  MFMediaType_Video,
  MFNominalRange_16_235,
  MFT_MESSAGE,
  MFT_OUTPUT_STREAM,
  MFVideoFormat_H264,
  MFVideoFormat_NV12,
  MFVideoInterlace_Progressive,
  MFVideoTransferMatrix_BT601,
  MF_E,
  MF_EVENT_FLAG_NO_WAIT,
  MF_LOW_LATENCY,
  MF_MT_AVG_BITRATE,
  MF_MT_DEFAULT_STRIDE,
  MF_MT_FRAME_RATE,
  MF_MT_FRAME_SIZE,
  MF_MT_INTERLACE_MODE,
  MF_MT_MAJOR_TYPE,
  MF_MT_MPEG2_PROFILE,
  MF_MT_MPEG_SEQUENCE_HEADER,
  MF_MT_PIXEL_ASPECT_RATIO,
  MF_MT_SUBTYPE,
  MF_MT_VIDEO_NOMINAL_RANGE,
  MF_MT_YUV_MATRIX,
  MF_TRANSFORM_ASYNC,
  MF_TRANSFORM_ASYNC_UNLOCK,
  VARIANT_TRUE,
  VT_BOOL,
  VT_UI4,
} from '../../native/win32/mf-types.js';
import { mfplat, ole32 } from '../../native/win32/mfplat.js';
import { Win32Error } from '../../native/win32/win32-error.js';
import type { CodecProperty, MfOutput, MfTransform, MfVideoType } from './mf-api.js';

type Method = readonly [number, TypeObject];

export function hr(call: string, value: unknown): void {
  const code = value as number;
  if (code < 0) throw new Win32Error(call, code, { hresult: true });
}

export function invoke(ref: ComRef, [slot, proto]: Method, ...args: unknown[]): unknown {
  return ref.call(slot, proto, ...args);
}

function query(ref: ComRef, iid: GuidFields, name: string): ComRef | undefined {
  const r = ref.query(iid, name);
  return typeof r === 'number' ? undefined : r;
}

const CODEC_PROPERTIES: Record<CodecProperty, GuidFields> = {
  rateControlMode: CODECAPI_AVEncCommonRateControlMode,
  meanBitRate: CODECAPI_AVEncCommonMeanBitRate,
  maxBitRate: CODECAPI_AVEncCommonMaxBitRate,
  lowLatency: CODECAPI_AVLowLatencyMode,
  gopSize: CODECAPI_AVEncMPVGOPSize,
  bPictureCount: CODECAPI_AVEncMPVDefaultBPictureCount,
  forceKeyFrame: CODECAPI_AVEncVideoForceKeyFrame,
};

const sameGuid = (a: GuidFields, b: GuidFields): boolean =>
  a.Data1 === b.Data1 &&
  a.Data2 === b.Data2 &&
  a.Data3 === b.Data3 &&
  a.Data4.every((x, i) => x === b.Data4[i]);

interface StreamInfo {
  dwFlags: number;
  cbSize: number;
  cbAlignment: number;
}

export class KoffiTransform implements MfTransform {
  readonly async: boolean;
  private readonly attributes: ComRef | undefined;
  private readonly events: ComRef | undefined;
  private readonly codec: ComRef | undefined;
  private streamInfo: StreamInfo | undefined;
  /** The largest output a frame of the current type can need, when the MFT says 0. */
  private outputBytes = 1 << 20;
  private closed = false;

  constructor(
    private readonly transform: ComRef,
    private readonly activation: ComRef,
  ) {
    try {
      const out: unknown[] = [null];
      // Synchronous MFTs may have no attribute store (E_NOTIMPL).
      const code = invoke(transform, IMFTransform.GetAttributes, out) as number;
      this.attributes = code >= 0 && out[0] != null ? new ComRef(out[0], 'IMFAttributes') : undefined;
      const flag = [0];
      this.async =
        this.attributes !== undefined &&
        (invoke(this.attributes, IMFAttributes.GetUINT32, MF_TRANSFORM_ASYNC, flag) as number) >= 0 &&
        flag[0] !== 0;
      this.events = this.async
        ? query(transform, IID_IMFMediaEventGenerator, 'IMFMediaEventGenerator')
        : undefined;
      if (this.async && !this.events) throw new Error('an asynchronous MFT without IMFMediaEventGenerator');
      this.codec = query(transform, IID_ICodecAPI, 'ICodecAPI');
    } catch (err) {
      releaseAll(this.attributes, this.events, transform);
      invoke(activation, IMFActivate.ShutdownObject);
      throw err;
    }
  }

  unlockAsync(): void {
    if (!this.attributes) throw new Error('an asynchronous MFT without attributes');
    hr(
      'IMFAttributes::SetUINT32(MF_TRANSFORM_ASYNC_UNLOCK)',
      invoke(this.attributes, IMFAttributes.SetUINT32, MF_TRANSFORM_ASYNC_UNLOCK, 1),
    );
  }

  setLowLatencyAttribute(): boolean {
    if (!this.attributes) return false;
    return (invoke(this.attributes, IMFAttributes.SetUINT32, MF_LOW_LATENCY, 1) as number) >= 0;
  }

  setCodecValue(property: CodecProperty, value: number): number {
    if (!this.codec) return E_NOINTERFACE;
    const variant: VariantFields = {
      vt: property === 'lowLatency' ? VT_BOOL : VT_UI4,
      wReserved1: 0,
      wReserved2: 0,
      wReserved3: 0,
      // VT_BOOL: VARIANT_TRUE (-1) in the low 16 bits; VT_UI4: the low 32 bits.
      ullVal: property === 'lowLatency' ? (value ? VARIANT_TRUE & 0xffff : 0) : value >>> 0,
      pRecInfo: null,
    };
    return invoke(this.codec, ICodecAPI.SetValue, CODEC_PROPERTIES[property], variant) as number;
  }

  private mediaType(type: MfVideoType): ComRef {
    const out: unknown[] = [null];
    hr('MFCreateMediaType', mfplat().MFCreateMediaType(out));
    const t = new ComRef(out[0], 'IMFMediaType');
    try {
      const set = (what: string, method: Method, key: GuidFields, value: unknown): void =>
        hr(`IMFMediaType::${what}`, invoke(t, method, key, value));
      const pair = (hi: number, lo: number): bigint => (BigInt(hi) << 32n) | BigInt(lo);
      set('SetGUID(MF_MT_MAJOR_TYPE)', IMFAttributes.SetGUID, MF_MT_MAJOR_TYPE, MFMediaType_Video);
      set(
        'SetGUID(MF_MT_SUBTYPE)',
        IMFAttributes.SetGUID,
        MF_MT_SUBTYPE,
        type.subtype === 'H264' ? MFVideoFormat_H264 : MFVideoFormat_NV12,
      );
      set(
        'SetUINT64(MF_MT_FRAME_SIZE)',
        IMFAttributes.SetUINT64,
        MF_MT_FRAME_SIZE,
        pair(type.width, type.height),
      );
      // A whole fps is n/1; 29.97 and the like keep three decimals.
      const fps = Number.isInteger(type.fps) ? pair(type.fps, 1) : pair(Math.round(type.fps * 1000), 1000);
      set('SetUINT64(MF_MT_FRAME_RATE)', IMFAttributes.SetUINT64, MF_MT_FRAME_RATE, fps);
      set(
        'SetUINT64(MF_MT_PIXEL_ASPECT_RATIO)',
        IMFAttributes.SetUINT64,
        MF_MT_PIXEL_ASPECT_RATIO,
        pair(1, 1),
      );
      set(
        'SetUINT32(MF_MT_INTERLACE_MODE)',
        IMFAttributes.SetUINT32,
        MF_MT_INTERLACE_MODE,
        MFVideoInterlace_Progressive,
      );
      if (type.subtype === 'H264') {
        set('SetUINT32(MF_MT_AVG_BITRATE)', IMFAttributes.SetUINT32, MF_MT_AVG_BITRATE, type.bitrate ?? 0);
        if (type.profile !== undefined)
          set('SetUINT32(MF_MT_MPEG2_PROFILE)', IMFAttributes.SetUINT32, MF_MT_MPEG2_PROFILE, type.profile);
        this.outputBytes = Math.max(1 << 16, type.width * type.height * 2);
      } else {
        set('SetUINT32(MF_MT_DEFAULT_STRIDE)', IMFAttributes.SetUINT32, MF_MT_DEFAULT_STRIDE, type.width);
        set(
          'SetUINT32(MF_MT_YUV_MATRIX)',
          IMFAttributes.SetUINT32,
          MF_MT_YUV_MATRIX,
          MFVideoTransferMatrix_BT601,
        );
        set(
          'SetUINT32(MF_MT_VIDEO_NOMINAL_RANGE)',
          IMFAttributes.SetUINT32,
          MF_MT_VIDEO_NOMINAL_RANGE,
          MFNominalRange_16_235,
        );
      }
      return t;
    } catch (err) {
      t.release();
      throw err;
    }
  }

  setOutputType(type: MfVideoType): void {
    const t = this.mediaType(type);
    try {
      hr(
        `IMFTransform::SetOutputType(${type.subtype})`,
        invoke(this.transform, IMFTransform.SetOutputType, 0, t.pointer, 0),
      );
      this.streamInfo = undefined;
    } finally {
      t.release();
    }
  }

  setInputType(type: MfVideoType): void {
    const t = this.mediaType(type);
    try {
      hr(
        `IMFTransform::SetInputType(${type.subtype})`,
        invoke(this.transform, IMFTransform.SetInputType, 0, t.pointer, 0),
      );
    } finally {
      t.release();
    }
  }

  useAvailableOutputType(subtype: MfVideoType['subtype']): void {
    const want = subtype === 'H264' ? MFVideoFormat_H264 : MFVideoFormat_NV12;
    for (let i = 0; ; i++) {
      const out: unknown[] = [null];
      const code = invoke(this.transform, IMFTransform.GetOutputAvailableType, 0, i, out) as number;
      if (code === MF_E.NO_MORE_TYPES) throw new Error(`the MFT offers no ${subtype} output type`);
      hr('IMFTransform::GetOutputAvailableType', code);
      const t = new ComRef(out[0], 'IMFMediaType');
      try {
        const sub = {} as GuidFields;
        if ((invoke(t, IMFAttributes.GetGUID, MF_MT_SUBTYPE, sub) as number) < 0 || !sameGuid(sub, want))
          continue;
        hr(
          'IMFTransform::SetOutputType',
          invoke(this.transform, IMFTransform.SetOutputType, 0, t.pointer, 0),
        );
        this.streamInfo = undefined;
        return;
      } finally {
        t.release();
      }
    }
  }

  sequenceHeader(): Buffer | undefined {
    const out: unknown[] = [null];
    if ((invoke(this.transform, IMFTransform.GetOutputCurrentType, 0, out) as number) < 0) return undefined;
    const t = new ComRef(out[0], 'IMFMediaType');
    try {
      const blob: unknown[] = [null];
      const size = [0];
      if ((invoke(t, IMFAttributes.GetAllocatedBlob, MF_MT_MPEG_SEQUENCE_HEADER, blob, size) as number) < 0)
        return undefined;
      try {
        return (size[0] ?? 0) > 0 ? Buffer.from(koffi.view(blob[0], size[0]!)) : undefined;
      } finally {
        ole32().CoTaskMemFree(blob[0]);
      }
    } finally {
      t.release();
    }
  }

  processMessage(message: number): void {
    hr(
      `IMFTransform::ProcessMessage(0x${message.toString(16)})`,
      invoke(this.transform, IMFTransform.ProcessMessage, message, 0),
    );
  }

  /** A sample holding one memory buffer of `bytes` (its current length `data.length` when given). */
  private sample(bytes: number, data?: Uint8Array): ComRef {
    const out: unknown[] = [null];
    hr('MFCreateMemoryBuffer', mfplat().MFCreateMemoryBuffer(bytes, out));
    const buffer = new ComRef(out[0], 'IMFMediaBuffer');
    let sample: ComRef | undefined;
    try {
      if (data) {
        const ptr: unknown[] = [null];
        hr('IMFMediaBuffer::Lock', invoke(buffer, IMFMediaBuffer.Lock, ptr, [0], [0]));
        try {
          new Uint8Array(koffi.view(ptr[0], data.length)).set(data);
        } finally {
          invoke(buffer, IMFMediaBuffer.Unlock);
        }
        hr('IMFMediaBuffer::SetCurrentLength', invoke(buffer, IMFMediaBuffer.SetCurrentLength, data.length));
      }
      const s: unknown[] = [null];
      hr('MFCreateSample', mfplat().MFCreateSample(s));
      sample = new ComRef(s[0], 'IMFSample');
      hr('IMFSample::AddBuffer', invoke(sample, IMFSample.AddBuffer, buffer.pointer));
      return sample;
    } catch (err) {
      sample?.release();
      throw err;
    } finally {
      buffer.release();
    }
  }

  processInput(data: Uint8Array, timeHns: number, durationHns: number): number {
    const sample = this.sample(data.length, data);
    try {
      hr('IMFSample::SetSampleTime', invoke(sample, IMFSample.SetSampleTime, timeHns));
      hr('IMFSample::SetSampleDuration', invoke(sample, IMFSample.SetSampleDuration, durationHns));
      const code = invoke(this.transform, IMFTransform.ProcessInput, 0, sample.pointer, 0) as number;
      if (code === MF_E.NOTACCEPTING) return code;
      hr('IMFTransform::ProcessInput', code);
      return 0;
    } finally {
      sample.release();
    }
  }

  processOutput(): MfOutput {
    if (!this.streamInfo) {
      const info = { dwFlags: 0, cbSize: 0, cbAlignment: 0 };
      hr(
        'IMFTransform::GetOutputStreamInfo',
        invoke(this.transform, IMFTransform.GetOutputStreamInfo, 0, info),
      );
      this.streamInfo = info;
    }
    const provides =
      (this.streamInfo.dwFlags &
        (MFT_OUTPUT_STREAM.PROVIDES_SAMPLES | MFT_OUTPUT_STREAM.CAN_PROVIDE_SAMPLES)) !==
      0;
    const ours = provides ? undefined : this.sample(Math.max(this.streamInfo.cbSize, this.outputBytes));
    const slot = { dwStreamID: 0, pSample: ours?.pointer ?? null, dwStatus: 0, pEvents: null as unknown };
    let sample: ComRef | undefined = ours;
    try {
      const code = invoke(this.transform, IMFTransform.ProcessOutput, 0, 1, slot, [0]) as number;
      if (slot.pEvents != null && koffi.address(slot.pEvents) !== 0n)
        new ComRef(slot.pEvents, 'IMFCollection').release();
      if (code === MF_E.TRANSFORM_NEED_MORE_INPUT) return 'need-input';
      if (code === MF_E.TRANSFORM_STREAM_CHANGE) {
        this.streamInfo = undefined;
        return 'stream-change';
      }
      hr('IMFTransform::ProcessOutput', code);
      if (provides) sample = new ComRef(slot.pSample, 'IMFSample');
      const out: unknown[] = [null];
      hr('IMFSample::ConvertToContiguousBuffer', invoke(sample!, IMFSample.ConvertToContiguousBuffer, out));
      const buffer = new ComRef(out[0], 'IMFMediaBuffer');
      let data: Buffer;
      try {
        const ptr: unknown[] = [null];
        const length = [0];
        hr('IMFMediaBuffer::Lock', invoke(buffer, IMFMediaBuffer.Lock, ptr, [0], length));
        try {
          data = Buffer.from(new Uint8Array(koffi.view(ptr[0], length[0] ?? 0)));
        } finally {
          invoke(buffer, IMFMediaBuffer.Unlock);
        }
      } finally {
        buffer.release();
      }
      const time = [0];
      const timed = (invoke(sample!, IMFSample.GetSampleTime, time) as number) >= 0;
      return { data, timeHns: timed ? Number(time[0]) : undefined };
    } finally {
      sample?.release();
    }
  }

  nextEvent(): number | undefined {
    if (!this.events) return undefined;
    const out: unknown[] = [null];
    const code = invoke(this.events, IMFMediaEventGenerator.GetEvent, MF_EVENT_FLAG_NO_WAIT, out) as number;
    if (code === MF_E.NO_EVENTS_AVAILABLE) return undefined;
    hr('IMFMediaEventGenerator::GetEvent', code);
    const event = new ComRef(out[0], 'IMFMediaEvent');
    try {
      const type = [0];
      const status = [0];
      hr('IMFMediaEvent::GetType', invoke(event, IMFMediaEvent.GetType, type));
      hr('IMFMediaEvent::GetStatus', invoke(event, IMFMediaEvent.GetStatus, status));
      if ((status[0] ?? 0) < 0) throw new Win32Error(`MFT event ${type[0]}`, status[0]!, { hresult: true });
      return type[0];
    } finally {
      event.release();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      invoke(this.transform, IMFTransform.ProcessMessage, MFT_MESSAGE.NOTIFY_END_STREAMING, 0);
    } catch {
      // Closing anyway.
    }
    releaseAll(this.attributes, this.events, this.codec, this.transform);
    invoke(this.activation, IMFActivate.ShutdownObject);
  }
}
