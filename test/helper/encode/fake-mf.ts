/**
 * A fake of the Media Foundation calls behind the MF encoder (src/helper/encode/mf-api.ts): scripted
 * encoder MFTs, synchronous (one access unit out per frame in, at once) or asynchronous (input only
 * after METransformNeedInput, output after METransformHaveOutput a poll later), which may refuse
 * settings, keyframes on demand or bitrate changes, and put SPS/PPS in every IDR, the first one only,
 * or only in the output type's sequence header. Every call is recorded and every open transform
 * counted, so the encoder's decisions are tested on Linux; the real calls run under Wine
 * (test/win32/media-foundation.test.ts) and on a Windows VM (scripts/windows-vm-check.ps1).
 */
import type {
  CodecProperty,
  MfActivation,
  MfApi,
  MfOutput,
  MfTransform,
  MfTransformKind,
  MfVideoType,
} from '../../../src/helper/encode/mf-api.js';
import { E_NOTIMPL } from '../../../src/native/win32/dxgi.js';
import {
  E_NOINTERFACE,
  METransformHaveOutput,
  METransformNeedInput,
  MF_E,
} from '../../../src/native/win32/mf-types.js';
import { Win32Error } from '../../../src/native/win32/win32-error.js';

export const SPS = Buffer.from([0x67, 0x42, 0xc0, 0x1f, 0xaa]);
export const PPS = Buffer.from([0x68, 0xce, 0x3c, 0x80]);
const START = Buffer.from([0, 0, 0, 1]);

export interface FakeMftSpec {
  name: string;
  async?: boolean;
  /** Where SPS/PPS appear: in every IDR (default), the first IDR only, or only in the sequence header. */
  parameterSets?: 'every-idr' | 'first-idr' | 'header-only';
  /** ICodecAPI properties this MFT refuses (E_NOTIMPL), or all of them (no ICodecAPI at all). */
  refuses?: CodecProperty[] | 'no-codec-api';
  /** SetOutputType fails with this HRESULT (an MFT that cannot take the settings). */
  failOutputType?: number;
  /** Async: ProcessInput answers MF_E_NOTACCEPTING this many times first, even with a credit. */
  notAcceptingFirst?: number;
  /** ProcessOutput reports a stream change before the first output. */
  streamChangeFirst?: boolean;
  /** Async: an event with this failing status comes after the first output. */
  errorAfterFirstOutput?: number;
  /** Async: the output of frame n (0-based, in this transform) is never produced. */
  dropFrame?: number;
}

export type Call =
  | { call: 'unlockAsync' }
  | { call: 'setLowLatencyAttribute' }
  | { call: 'setCodecValue'; property: CodecProperty; value: number; hr: number }
  | { call: 'setOutputType' | 'setInputType'; type: MfVideoType }
  | { call: 'useAvailableOutputType'; subtype: string }
  | { call: 'processMessage'; message: number }
  | { call: 'processInput'; timeHns: number; bytes: number; hr: number }
  | { call: 'close' };

export class FakeTransform implements MfTransform {
  readonly async: boolean;
  readonly calls: Call[] = [];
  readonly inputs: Uint8Array[] = [];
  closed = false;
  private unlocked = false;
  private outputType: MfVideoType | undefined;
  private frames = 0;
  private idrs = 0;
  private forceKey = false;
  private readonly ready: { timeHns: number; idr: boolean }[] = [];
  private readonly working: { timeHns: number; idr: boolean; drop: boolean; at: number }[] = [];
  private readonly events: (number | { failed: number })[] = [];
  private notAccepting: number;
  private streamChange: boolean;
  private outputs = 0;

  constructor(
    readonly spec: FakeMftSpec,
    /** Async: a frame completes only once this clock has moved past its ProcessInput (a poll later). */
    private readonly now: () => number = () => Infinity,
  ) {
    this.async = spec.async ?? false;
    this.notAccepting = spec.notAcceptingFirst ?? 0;
    this.streamChange = spec.streamChangeFirst ?? false;
  }

  private checkUnlocked(): void {
    if (this.closed) throw new Error(`${this.spec.name} used after close`);
    if (this.async && !this.unlocked)
      throw new Win32Error('locked async MFT', 0x80004005 | 0, { hresult: true });
  }

  unlockAsync(): void {
    this.calls.push({ call: 'unlockAsync' });
    this.unlocked = true;
  }

  setLowLatencyAttribute(): boolean {
    this.checkUnlocked();
    this.calls.push({ call: 'setLowLatencyAttribute' });
    return true;
  }

  setCodecValue(property: CodecProperty, value: number): number {
    this.checkUnlocked();
    const refuses = this.spec.refuses;
    const hr = refuses === 'no-codec-api' ? E_NOINTERFACE : refuses?.includes(property) ? E_NOTIMPL : 0;
    this.calls.push({ call: 'setCodecValue', property, value, hr });
    if (hr === 0 && property === 'forceKeyFrame' && value) this.forceKey = true;
    return hr;
  }

  setOutputType(type: MfVideoType): void {
    this.checkUnlocked();
    this.calls.push({ call: 'setOutputType', type });
    if (this.spec.failOutputType !== undefined)
      throw new Win32Error('IMFTransform::SetOutputType(H264)', this.spec.failOutputType, { hresult: true });
    this.outputType = type;
  }

  setInputType(type: MfVideoType): void {
    this.checkUnlocked();
    if (!this.outputType)
      throw new Win32Error('IMFTransform::SetInputType', MF_E.TRANSFORM_TYPE_NOT_SET, { hresult: true });
    this.calls.push({ call: 'setInputType', type });
  }

  useAvailableOutputType(subtype: MfVideoType['subtype']): void {
    this.calls.push({ call: 'useAvailableOutputType', subtype });
  }

  sequenceHeader(): Buffer | undefined {
    return Buffer.concat([START, SPS, START, PPS]);
  }

  processMessage(message: number): void {
    this.checkUnlocked();
    this.calls.push({ call: 'processMessage', message });
    // A hardware MFT asks for its first input once streaming starts.
    if (this.async && message === 0x1000_0003) this.events.push(METransformNeedInput);
  }

  processInput(data: Uint8Array, timeHns: number): number {
    this.checkUnlocked();
    if (this.notAccepting > 0) {
      this.notAccepting -= 1;
      this.calls.push({ call: 'processInput', timeHns, bytes: data.length, hr: MF_E.NOTACCEPTING });
      return MF_E.NOTACCEPTING;
    }
    if (this.async && this.working.length > 0) {
      // Asked before METransformNeedInput: a real async MFT refuses.
      this.calls.push({ call: 'processInput', timeHns, bytes: data.length, hr: MF_E.NOTACCEPTING });
      return MF_E.NOTACCEPTING;
    }
    this.calls.push({ call: 'processInput', timeHns, bytes: data.length, hr: 0 });
    this.inputs.push(Uint8Array.from(data));
    const idr = this.frames === 0 || this.forceKey;
    this.forceKey = false;
    const drop = this.spec.dropFrame === this.frames;
    this.frames += 1;
    if (this.async) this.working.push({ timeHns, idr, drop, at: this.now() });
    else this.ready.push({ timeHns, idr });
    return 0;
  }

  processOutput(): MfOutput {
    this.checkUnlocked();
    if (this.ready.length === 0) return 'need-input';
    if (this.streamChange) {
      this.streamChange = false;
      return 'stream-change';
    }
    const { timeHns, idr } = this.ready.shift()!;
    this.outputs += 1;
    if (this.async && this.spec.errorAfterFirstOutput !== undefined && this.outputs === 1)
      this.events.push({ failed: this.spec.errorAfterFirstOutput });
    const nals: Buffer[] = [];
    if (idr) {
      const withSets =
        (this.spec.parameterSets ?? 'every-idr') === 'every-idr' ||
        (this.spec.parameterSets === 'first-idr' && this.idrs === 0);
      if (withSets) nals.push(START, SPS, START, PPS);
      this.idrs += 1;
    }
    // Slice header byte: IDR (type 5) or non-IDR (type 1), then the sample time as ASCII (no zero bytes,
    // so no false start code).
    const payload = Buffer.from(timeHns.toString(16));
    nals.push(START, Buffer.from([idr ? 0x65 : 0x41]), payload);
    return { data: Buffer.concat(nals), timeHns };
  }

  /** Async: queued events first; with none queued, the oldest frame in work completes (one per poll). */
  nextEvent(): number | undefined {
    if (!this.async) return undefined;
    this.checkUnlocked();
    const queued = this.events.shift();
    if (queued !== undefined) {
      if (typeof queued === 'object') throw new Win32Error('MFT event 1', queued.failed, { hresult: true });
      return queued;
    }
    const first = this.working[0];
    if (!first || !(this.now() > first.at)) return undefined;
    const done = this.working.shift()!;
    this.events.push(METransformNeedInput);
    if (done.drop) return this.nextEvent();
    this.ready.push({ timeHns: done.timeHns, idr: done.idr });
    return METransformHaveOutput;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.calls.push({ call: 'close' });
  }

  /** The codec values set, in order, as `property=value`. */
  codecValues(): string[] {
    return this.calls.flatMap((c) => (c.call === 'setCodecValue' ? [`${c.property}=${c.value}`] : []));
  }
}

export class FakeActivation implements MfActivation {
  readonly transforms: FakeTransform[] = [];
  released = false;

  constructor(
    readonly spec: FakeMftSpec,
    readonly hardware: boolean,
    private readonly now?: () => number,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  activate(): FakeTransform {
    if (this.released) throw new Error(`${this.name}: activation used after release`);
    const t = new FakeTransform(this.spec, this.now);
    this.transforms.push(t);
    return t;
  }

  release(): void {
    this.released = true;
  }

  get current(): FakeTransform {
    return this.transforms[this.transforms.length - 1]!;
  }
}

export class FakeMf implements MfApi {
  readonly activations: FakeActivation[] = [];
  constructor(
    private readonly mfts: Partial<Record<MfTransformKind, FakeMftSpec[]>>,
    private readonly now?: () => number,
  ) {}

  enumerate(kind: MfTransformKind): FakeActivation[] {
    const found = (this.mfts[kind] ?? []).map(
      (spec) => new FakeActivation(spec, kind === 'hardware-encoder', this.now),
    );
    this.activations.push(...found);
    return found;
  }

  /** Transforms not closed: must be 0 once the encoder is closed. */
  openTransforms(): number {
    return this.activations.flatMap((a) => a.transforms).filter((t) => !t.closed).length;
  }
}
