/**
 * H.264 through a Media Foundation encoder MFT, in this process: a GPU vendor's hardware MFT (Intel
 * Quick Sync, NVIDIA, AMD) when MFTEnumEx finds one that accepts the settings, else Microsoft's software
 * encoder (Windows 10/11 with the Media Feature Pack). Windows only in practice; the logic runs on any
 * platform over an `MfApi` (mf-api.ts), which is how the unit tests drive it.
 *
 * - Input: the captured BGRA frame converted to NV12 on the CPU (nv12.ts). A GPU path (the video
 *   processor MFT on DXGI textures) is not built: see design/MEDIA.md.
 * - Settings, through ICodecAPI before the media types (the Microsoft encoder reads rate control only
 *   then): CBR at the target bitrate, low-latency mode, no B-frames, a GOP as long as the encoder takes
 *   (an hour): keyframes come on demand.
 * - Keyframe on demand: CODECAPI_AVEncVideoForceKeyFrame just before the frame's ProcessInput. An MFT
 *   that refuses it is recreated instead (its first frame is an IDR).
 * - Bitrate at run time: CODECAPI_AVEncCommonMeanBitRate; an MFT that refuses it is recreated at the
 *   next frame (a keyframe). A new fps or size always recreates it (new media types).
 * - Synchronous MFTs (the software one): ProcessInput, then ProcessOutput until it needs more input.
 *   Asynchronous MFTs (hardware): input only after METransformNeedInput, output only after
 *   METransformHaveOutput. Events are polled with MF_EVENT_FLAG_NO_WAIT on the JS thread (a blocking
 *   GetEvent would stall it) every `ASYNC_POLL_MS` while a frame is inside the encoder.
 * - Output: each sample is one Annex-B access unit; an IDR that comes without SPS/PPS gets the last ones
 *   seen (in the stream, or MF_MT_MPEG_SEQUENCE_HEADER of the output type) in front.
 */
import { monotonicUs } from '../capture/clock.js';
import { realTimers, type TimerHandle, type Timers } from '../../time/timers.js';
import { errorMessage } from '../../errors/error-text.js';
import { METransformHaveOutput, METransformNeedInput, MF_E } from '../../native/win32/mf-types.js';
import {
  EncoderError,
  validateConfig,
  type EncodeOptions,
  type EncodedFrame,
  type Encoder,
  type EncoderConfig,
  type RawFrame,
} from './encoder.js';
import { NAL_IDR, NAL_PPS, NAL_SPS, nalType, splitAnnexB, withParameterSets } from './annexb.js';
import type { MfActivation, MfApi, MfTransform } from './mf-api.js';
import { bgraToNv12, nv12Size } from './nv12.js';
import { startTransform, type MfSessionInfo } from './mf-session.js';

export { mfProfileFor, type MfSessionInfo } from './mf-session.js';

/** How often an asynchronous MFT's events are polled while a frame is inside it. */
export const ASYNC_POLL_MS = 1;
/** submit(): the MFT was replaced; start over with the new one. */
const RESTARTED = 1;

interface Pending {
  timeHns: number;
  captureTimestampUs: number;
  width: number;
  height: number;
  frame: RawFrame;
  keyFrame: boolean;
  submitted: boolean;
  resolve(frame: EncodedFrame): void;
  reject(err: Error): void;
}

export interface MfEncoderOptions {
  /** Only hardware MFTs, only the software one, or hardware first (the default). */
  mfClass?: 'hardware' | 'software' | 'any';
  timers?: Timers;
}

function hex(hr: number): string {
  return `0x${(hr >>> 0).toString(16).padStart(8, '0')}`;
}

export class MfEncoder implements Encoder {
  readonly kind = 'mf' as const;
  private session: { t: MfTransform; info: MfSessionInfo } | undefined;
  private config: EncoderConfig;
  private pending: Pending[] = [];
  private keyframeRequested = true;
  /** The next frame starts a new MFT (new size, fps, or a setting the MFT refused). */
  private restart = false;
  private parameterSets: Buffer | undefined;
  private nv12: Uint8Array = new Uint8Array(0);
  private lastTimeHns = -1;
  /** Frames given to the current MFT. */
  private framesInSession = 0;
  /** Asynchronous MFTs: METransformNeedInput events not yet answered with a frame. */
  private inputCredits = 0;
  private poll: TimerHandle | undefined;
  private failure: Error | undefined;
  private closed = false;
  private readonly timers: Timers;
  /** Sessions started, for the tests (1 + restarts). */
  sessionsStarted = 0;

  /**
   * The first MFT of `candidates` (in order) that accepts the settings; the others are released.
   * Throws EncoderError('unavailable') naming each one tried and why, when none does.
   */
  static create(api: MfApi, config: EncoderConfig, options: MfEncoderOptions = {}): MfEncoder {
    validateConfig(config);
    const mfClass = options.mfClass ?? 'any';
    const kinds = (mfClass === 'any' ? ['hardware', 'software'] : [mfClass]) as ('hardware' | 'software')[];
    const tried: string[] = [];
    for (const kind of kinds) {
      let found: MfActivation[];
      try {
        found = api.enumerate(kind === 'hardware' ? 'hardware-encoder' : 'software-encoder');
      } catch (err) {
        tried.push(`MFTEnumEx (${kind}): ${errorMessage(err)}`);
        continue;
      }
      if (found.length === 0) tried.push(`no ${kind} H.264 encoder MFT`);
      for (let i = 0; i < found.length; i++) {
        const activation = found[i]!;
        try {
          const session = startTransform(activation, config);
          for (const other of found.slice(i + 1)) other.release();
          return new MfEncoder(activation, session, config, options.timers ?? realTimers);
        } catch (err) {
          tried.push(`${activation.name}: ${errorMessage(err)}`);
          activation.release();
        }
      }
    }
    throw new EncoderError(
      'unavailable',
      `no Media Foundation H.264 encoder works here (${tried.join('; ')})`,
    );
  }

  private constructor(
    private readonly activation: MfActivation,
    session: { t: MfTransform; info: MfSessionInfo },
    config: EncoderConfig,
    timers: Timers,
  ) {
    this.session = session;
    this.sessionsStarted = 1;
    this.config = { ...config };
    this.timers = timers;
  }

  get info(): MfSessionInfo {
    return (
      this.session?.info ?? {
        name: this.activation.name,
        hardware: this.activation.hardware,
        async: false,
        refused: {},
      }
    );
  }

  get description(): string {
    const i = this.info;
    return `${i.name} (Media Foundation, ${i.hardware ? 'hardware' : 'software'}, ${i.async ? 'async' : 'sync'}, NV12 on the CPU)`;
  }

  encode(frame: RawFrame, options: EncodeOptions = {}): Promise<EncodedFrame> {
    if (this.closed) return Promise.reject(new EncoderError('closed', 'encode on a closed encoder'));
    if (this.failure) return Promise.reject(this.failure);
    if (frame.width !== this.config.width || frame.height !== this.config.height) {
      this.config = { ...this.config, width: frame.width, height: frame.height };
      validateConfig(this.config);
      this.restart = true;
    }
    const keyFrame = this.keyframeRequested || options.keyFrame === true;
    this.keyframeRequested = false;
    const timeHns = Math.max(this.lastTimeHns + 1, Math.round(frame.timestampUs * 10));
    this.lastTimeHns = timeHns;
    return new Promise<EncodedFrame>((resolve, reject) => {
      this.pending.push({
        timeHns,
        captureTimestampUs: frame.timestampUs,
        width: frame.width,
        height: frame.height,
        frame,
        keyFrame,
        submitted: false,
        resolve,
        reject,
      });
      this.guard(() => {
        if (this.restart) this.restartSession();
        this.pump();
      });
    });
  }

  /**
   * A new MFT for the current settings: frames inside the old one are dropped, frames not yet given to
   * it go to the new one, whose first frame is an IDR.
   */
  private restartSession(): void {
    this.restart = false;
    const inside = this.pending.filter((p) => p.submitted);
    this.pending = this.pending.filter((p) => !p.submitted);
    for (const p of inside) p.reject(new EncoderError('dropped', 'the encoder was reconfigured'));
    this.closeTransform();
    this.session = startTransform(this.activation, this.config);
    this.sessionsStarted += 1;
    this.framesInSession = 0;
    this.inputCredits = 0;
    this.parameterSets = undefined;
  }

  private closeTransform(): void {
    this.timers.clearTimeout(this.poll);
    this.poll = undefined;
    this.session?.t.close();
    this.session = undefined;
  }

  /** Feeds what the MFT will take and collects what it has; re-arms the poll of an async MFT. */
  private pump(): void {
    const s = this.session;
    if (!s) return;
    if (!s.t.async) {
      for (let p = this.nextUnsubmitted(); p; p = this.nextUnsubmitted()) {
        let hr = this.submit(s.t, p);
        if (hr === RESTARTED) return this.pump();
        if (hr === MF_E.NOTACCEPTING) {
          // Its output must be taken first; then it takes the input.
          this.collect(s.t, Infinity);
          hr = this.submit(s.t, p);
        }
        if (hr !== 0) throw new EncoderError('failed', `${s.info.name} refuses input (${hex(hr)})`);
        this.collect(s.t, Infinity);
      }
      return;
    }
    this.drainEvents(s.t);
    for (let p = this.nextUnsubmitted(); p && this.inputCredits > 0; p = this.nextUnsubmitted()) {
      const hr = this.submit(s.t, p);
      if (hr === RESTARTED) return this.pump();
      if (hr !== 0) break; // MF_E_NOTACCEPTING: wait for the next METransformNeedInput
      this.inputCredits -= 1;
      this.drainEvents(s.t);
    }
    if (this.pending.length > 0 && !this.poll && !this.closed) {
      this.poll = this.timers.setTimeout(() => {
        this.poll = undefined;
        this.guard(() => this.pump());
      }, ASYNC_POLL_MS);
    }
  }

  /** An async MFT's queued events: a credit per METransformNeedInput, one output per METransformHaveOutput. */
  private drainEvents(t: MfTransform): void {
    for (let ev = t.nextEvent(); ev !== undefined; ev = t.nextEvent()) {
      if (ev === METransformNeedInput) this.inputCredits += 1;
      else if (ev === METransformHaveOutput) this.collect(t, 1);
    }
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.fail(
        err instanceof EncoderError
          ? err
          : new EncoderError('failed', `Media Foundation: ${errorMessage(err)}`, { cause: err }),
      );
    }
  }

  private nextUnsubmitted(): Pending | undefined {
    return this.pending.find((p) => !p.submitted);
  }

  /** ProcessInput of one frame, forcing a keyframe first when asked: its HRESULT, or RESTARTED. */
  private submit(t: MfTransform, p: Pending): number {
    // The first frame of an MFT is an IDR anyway.
    if (p.keyFrame && this.framesInSession > 0) {
      const hr = t.setCodecValue('forceKeyFrame', 1);
      if (hr < 0) {
        // No keyframe on demand from this MFT: a new one starts with an IDR.
        this.session!.info.refused.forceKeyFrame = hr;
        this.restartSession();
        return RESTARTED;
      }
    }
    const { frame } = p;
    const size = nv12Size(frame.width, frame.height);
    if (this.nv12.length !== size) this.nv12 = new Uint8Array(size);
    bgraToNv12(frame.data, frame.width, frame.height, frame.stride, this.nv12);
    const hr = t.processInput(this.nv12, p.timeHns, Math.round(1e7 / this.config.fps));
    if (hr === 0) {
      p.submitted = true;
      this.framesInSession += 1;
    }
    return hr;
  }

  /** Up to `max` ProcessOutput calls, until the MFT has nothing more. */
  private collect(t: MfTransform, max: number): void {
    for (let n = 0; n < max; n++) {
      const out = t.processOutput();
      if (out === 'need-input') return;
      if (out === 'stream-change') {
        // The MFT changed its output type (some hardware MFTs do at the first frame): take the new one.
        t.useAvailableOutputType('H264');
        n -= 1;
        continue;
      }
      this.deliver(t, out.data, out.timeHns);
    }
  }

  private deliver(t: MfTransform, data: Buffer, timeHns: number | undefined): void {
    // Outputs come in input order; frames before this one's time were dropped by the MFT.
    let index = timeHns === undefined ? 0 : this.pending.findIndex((p) => p.timeHns === timeHns);
    if (index < 0) index = 0;
    for (const dropped of this.pending.splice(0, index)) {
      dropped.reject(new EncoderError('dropped', 'the encoder dropped this frame'));
    }
    const p = this.pending.shift();
    if (!p) return;
    const nals = splitAnnexB(data);
    const types = nals.map(nalType);
    if (types.includes(NAL_SPS) && types.includes(NAL_PPS)) {
      this.parameterSets = Buffer.concat(
        nals
          .filter((n) => nalType(n) === NAL_SPS || nalType(n) === NAL_PPS)
          .flatMap((n) => [Buffer.from([0, 0, 0, 1]), n]),
      );
    }
    const keyframe = types.includes(NAL_IDR);
    if (keyframe && !types.includes(NAL_SPS)) this.parameterSets ??= t.sequenceHeader();
    p.resolve({
      data: keyframe ? withParameterSets(data, this.parameterSets) : data,
      keyframe,
      timestampUs: monotonicUs(),
      captureTimestampUs: p.captureTimestampUs,
      width: p.width,
      height: p.height,
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.splice(0)) p.reject(this.failure);
    this.closeTransform();
  }

  requestKeyframe(): void {
    this.keyframeRequested = true;
  }

  setBitrate(bps: number): void {
    if (bps === this.config.bitrate) return;
    this.config = { ...this.config, bitrate: bps };
    validateConfig(this.config);
    const s = this.session;
    if (!s || this.restart) return;
    const hr = s.t.setCodecValue('meanBitRate', bps);
    if (hr < 0) {
      s.info.refused.meanBitRate = hr;
      this.restart = true;
    }
  }

  setFps(fps: number): void {
    if (fps === this.config.fps) return;
    this.config = { ...this.config, fps };
    validateConfig(this.config);
    this.restart = true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closed = new EncoderError('closed', 'encoder closed');
    for (const p of this.pending.splice(0)) p.reject(closed);
    this.closeTransform();
    this.activation.release();
    await Promise.resolve();
  }

  /** The HRESULT text of a refused setting, for logs. */
  static describeRefusals(info: MfSessionInfo): string {
    return Object.entries(info.refused)
      .map(([k, hr]) => `${k} ${hex(hr)}`)
      .join(', ');
  }
}
