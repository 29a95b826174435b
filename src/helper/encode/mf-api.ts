/**
 * The Media Foundation calls the MF encoder makes, behind an interface: `win32-mf-api.ts` implements it
 * with koffi (COM vtables), the unit tests with a fake transform (test/helper/encode/fake-mf.ts), so the
 * encoder's decisions — synchronous or asynchronous event handling, keyframes on demand, bitrate
 * changes, SPS/PPS before each IDR, falling back from one MFT to the next — run on Linux.
 *
 * Failures of these calls are `Win32Error`s with `hresult: true` (the HRESULT in `win32Code`), except
 * the ones the encoder branches on, which are returned: `processInput`'s MF_E_NOTACCEPTING and
 * `setCodecValue`'s result.
 */

/** What MFTEnumEx is asked for. */
export type MfTransformKind = 'hardware-encoder' | 'software-encoder' | 'decoder';

/** A media type the encoder sets: H.264 out of an encoder (into a decoder), NV12 the other side. */
export interface MfVideoType {
  subtype: 'H264' | 'NV12';
  width: number;
  height: number;
  fps: number;
  /** H.264 only: MF_MT_AVG_BITRATE. */
  bitrate?: number;
  /** H.264 only: MF_MT_MPEG2_PROFILE (eAVEncH264VProfile). */
  profile?: number;
}

/** The ICodecAPI properties porthole sets (CODECAPI_AV…). */
export type CodecProperty =
  | 'rateControlMode'
  | 'meanBitRate'
  | 'maxBitRate'
  | 'lowLatency'
  | 'gopSize'
  | 'bPictureCount'
  | 'forceKeyFrame';

/** One compressed (or decoded) sample out of ProcessOutput. */
export interface MfSample {
  /** The sample's bytes (contiguous). */
  data: Buffer;
  /** IMFSample::GetSampleTime, 100 ns units; undefined when the MFT set none. */
  timeHns: number | undefined;
}

export type MfOutput = MfSample | 'need-input' | 'stream-change';

export interface MfTransform {
  /** MF_TRANSFORM_ASYNC: an asynchronous MFT (hardware encoders), driven by its events. */
  readonly async: boolean;
  /** MF_TRANSFORM_ASYNC_UNLOCK = TRUE: an asynchronous MFT refuses every call until this is set. */
  unlockAsync(): void;
  /** MF_LOW_LATENCY on the MFT's attributes; false when the MFT refused it. */
  setLowLatencyAttribute(): boolean;
  /** ICodecAPI::SetValue (VT_UI4, or VT_BOOL for `lowLatency`); the HRESULT (E_NOINTERFACE without ICodecAPI). */
  setCodecValue(property: CodecProperty, value: number): number;
  setOutputType(type: MfVideoType): void;
  setInputType(type: MfVideoType): void;
  /** The first type of `subtype` the MFT offers (GetOutputAvailableType), set as its output type. */
  useAvailableOutputType(subtype: MfVideoType['subtype']): void;
  /** MF_MT_MPEG_SEQUENCE_HEADER of the current output type: SPS and PPS in Annex-B, when there. */
  sequenceHeader(): Buffer | undefined;
  processMessage(message: number): void;
  /** One sample of `data`; 0, or MF_E_NOTACCEPTING when the MFT wants its output taken first. */
  processInput(data: Uint8Array, timeHns: number, durationHns: number): number;
  /** One ProcessOutput: a sample, or why there is none (MF_E_TRANSFORM_NEED_MORE_INPUT / _STREAM_CHANGE). */
  processOutput(): MfOutput;
  /**
   * Asynchronous MFTs: the next queued event (GetEvent with MF_EVENT_FLAG_NO_WAIT), its MediaEventType,
   * or undefined when none is queued. An event whose status is a failure throws it.
   */
  nextEvent(): number | undefined;
  /** IMFActivate::ShutdownObject and every reference. Idempotent, never throws. */
  close(): void;
}

/** One MFT MFTEnumEx found, not yet created. */
export interface MfActivation {
  /** MFT_FRIENDLY_NAME_Attribute, e.g. `Intel® Quick Sync Video H.264 Encoder MFT`. */
  readonly name: string;
  readonly hardware: boolean;
  /** IMFActivate::ActivateObject: a new transform (after the previous one was closed). */
  activate(): MfTransform;
  release(): void;
}

export interface MfApi {
  /**
   * MFStartup (once per process), then MFTEnumEx for H.264: encoders (hardware ones, sorted by the
   * system's merit, or synchronous software ones) from NV12, or decoders to NV12.
   */
  enumerate(kind: MfTransformKind): MfActivation[];
}
