import { describe, expect, test } from 'vitest';
import { nalTypes } from '../../../src/helper/encode/annexb.js';
import type { EncodedFrame, RawFrame } from '../../../src/helper/encode/encoder.js';
import { EncoderError } from '../../../src/helper/encode/encoder.js';
import { MfEncoder } from '../../../src/helper/encode/mf-encoder.js';
import { bgraToNv12 } from '../../../src/helper/encode/nv12.js';
import { E_NOTIMPL } from '../../../src/native/win32/dxgi.js';
import {
  eAVEncCommonRateControlMode_CBR,
  eAVEncH264VProfile,
  MFT_MESSAGE,
} from '../../../src/native/win32/mf-types.js';
import { FakeClock, settle } from '../../fixtures/fake-clock.js';
import { FakeMf, type FakeMftSpec } from './fake-mf.js';

const W = 64;
const H = 32;
const CONFIG = { width: W, height: H, fps: 30, bitrate: 1_000_000 };
const SW: FakeMftSpec = { name: 'Microsoft H264 Video Encoder MFT' };
const HW: FakeMftSpec = { name: 'Vendor H.264 Encoder MFT', async: true };

let t = 1_000_000;
function frame(width = W, height = H, seed = 1): RawFrame {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * seed * 7) & 255;
  t += 33_333;
  return { data, width, height, stride: width * 4, format: 'BGRA', timestampUs: t };
}

function types(f: EncodedFrame): number[] {
  return nalTypes(f.data);
}

function start(mf: FakeMf, clock = new FakeClock(), mfClass?: 'hardware' | 'software'): MfEncoder {
  return MfEncoder.create(mf, CONFIG, { timers: clock, ...(mfClass ? { mfClass } : {}) });
}

describe('MF encoder: choosing an MFT', () => {
  test('takes the first hardware MFT that accepts the settings, releasing the others', async () => {
    const mf = new FakeMf({
      'hardware-encoder': [
        { ...HW, name: 'broken', failOutputType: E_NOTIMPL },
        HW,
        { ...HW, name: 'third' },
      ],
      'software-encoder': [SW],
    });
    const enc = start(mf);
    expect(enc.info).toMatchObject({ name: HW.name, hardware: true, async: true });
    expect(enc.description).toMatch(
      /Vendor H\.264 Encoder MFT \(Media Foundation, hardware, async, NV12 on the CPU\)/,
    );
    expect(mf.activations.map((a) => [a.name, a.released])).toEqual([
      ['broken', true],
      [HW.name, false],
      ['third', true],
    ]);
    expect(mf.activations[0]!.transforms[0]!.closed).toBe(true);
    await enc.close();
    expect(mf.openTransforms()).toBe(0);
    expect(mf.activations.every((a) => a.released)).toBe(true);
  });

  test('falls back to the software MFT when no hardware one works, and names every failure when none does', async () => {
    const mf = new FakeMf({ 'hardware-encoder': [], 'software-encoder': [SW] });
    const enc = start(mf);
    expect(enc.info).toMatchObject({ name: SW.name, hardware: false, async: false });
    await enc.close();

    const none = new FakeMf({
      'hardware-encoder': [{ ...HW, failOutputType: 0xc00d36b4 | 0 }],
      'software-encoder': [],
    });
    const err = (() => {
      try {
        start(none);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(EncoderError);
    expect(err).toMatchObject({ code: 'unavailable' });
    expect((err as Error).message).toMatch(
      /Vendor H\.264 Encoder MFT: .*SetOutputType.*0xC00D36B4.*no software H\.264 encoder MFT/,
    );
    expect(none.openTransforms()).toBe(0);
  });

  test('mfClass limits the search to hardware or software MFTs', async () => {
    const mf = new FakeMf({ 'hardware-encoder': [HW], 'software-encoder': [SW] });
    const sw = start(mf, new FakeClock(), 'software');
    expect(sw.info.hardware).toBe(false);
    await sw.close();
    expect(() => start(new FakeMf({ 'software-encoder': [SW] }), new FakeClock(), 'hardware')).toThrow(
      /no hardware H\.264 encoder MFT/,
    );
  });
});

describe('MF encoder: settings', () => {
  test('sets CBR, the bitrate, low latency, no B-frames and a long GOP through ICodecAPI before the media types, then starts streaming', async () => {
    const mf = new FakeMf({ 'software-encoder': [SW] });
    const enc = start(mf);
    const calls = mf.activations[0]!.current.calls.map((c) => c.call);
    expect(calls).toEqual([
      'setLowLatencyAttribute',
      'setCodecValue',
      'setCodecValue',
      'setCodecValue',
      'setCodecValue',
      'setCodecValue',
      'setOutputType',
      'setInputType',
      'processMessage',
      'processMessage',
    ]);
    const tr = mf.activations[0]!.current;
    expect(tr.codecValues()).toEqual([
      `rateControlMode=${eAVEncCommonRateControlMode_CBR}`,
      'meanBitRate=1000000',
      'lowLatency=1',
      'bPictureCount=0',
      'gopSize=65535',
    ]);
    expect(tr.calls.filter((c) => c.call === 'setOutputType' || c.call === 'setInputType')).toEqual([
      {
        call: 'setOutputType',
        type: {
          subtype: 'H264',
          width: W,
          height: H,
          fps: 30,
          bitrate: 1_000_000,
          profile: eAVEncH264VProfile.Base,
        },
      },
      { call: 'setInputType', type: { subtype: 'NV12', width: W, height: H, fps: 30 } },
    ]);
    expect(
      tr.calls
        .filter((c) => c.call === 'processMessage')
        .map((c) => c.call === 'processMessage' && c.message),
    ).toEqual([MFT_MESSAGE.NOTIFY_BEGIN_STREAMING, MFT_MESSAGE.NOTIFY_START_OF_STREAM]);
    await enc.close();
  });

  test('asks for the profile the offer allows: Main and High when offered, Baseline otherwise', async () => {
    for (const [id, profile] of [
      ['42e01f', eAVEncH264VProfile.Base],
      ['4d001f', eAVEncH264VProfile.Main],
      ['64001f', eAVEncH264VProfile.High],
      ['f4001f', eAVEncH264VProfile.Base],
    ] as const) {
      const mf = new FakeMf({ 'software-encoder': [SW] });
      const enc = MfEncoder.create(mf, { ...CONFIG, profileLevelId: id }, { timers: new FakeClock() });
      const out = mf.activations[0]!.current.calls.find((c) => c.call === 'setOutputType');
      expect({ id, profile: out?.call === 'setOutputType' && out.type.profile }).toEqual({ id, profile });
      await enc.close();
    }
  });

  test('an MFT that refuses every ICodecAPI setting still encodes (the refusals are recorded)', async () => {
    const mf = new FakeMf({ 'software-encoder': [{ ...SW, refuses: 'no-codec-api' }] });
    const enc = start(mf);
    expect(Object.keys(enc.info.refused).sort()).toEqual([
      'bPictureCount',
      'gopSize',
      'lowLatency',
      'meanBitRate',
      'rateControlMode',
    ]);
    expect(types(await enc.encode(frame()))).toEqual([7, 8, 5]);
    await enc.close();
  });
});

describe('MF encoder: synchronous MFT', () => {
  test('one access unit per frame, in order; the first an IDR with SPS/PPS; the input is the frame in NV12', async () => {
    const mf = new FakeMf({ 'software-encoder': [SW] });
    const enc = start(mf);
    const frames = [frame(W, H, 1), frame(W, H, 2), frame(W, H, 3)];
    const out = await Promise.all(frames.map((f) => enc.encode(f)));
    expect(out.map(types)).toEqual([[7, 8, 5], [1], [1]]);
    expect(out.map((o) => o.keyframe)).toEqual([true, false, false]);
    expect(out.map((o) => o.captureTimestampUs)).toEqual(frames.map((f) => f.timestampUs));
    const tr = mf.activations[0]!.current;
    expect(tr.inputs).toEqual(frames.map((f) => bgraToNv12(f.data, W, H, W * 4)));
    // Sample times: the capture time in 100 ns units.
    expect(tr.calls.flatMap((c) => (c.call === 'processInput' ? [c.timeHns] : []))).toEqual(
      frames.map((f) => f.timestampUs * 10),
    );
    await enc.close();
  });

  test('an MFT that answers MF_E_NOTACCEPTING has its output taken, then gets the frame', async () => {
    const mf = new FakeMf({ 'software-encoder': [{ ...SW, notAcceptingFirst: 1 }] });
    const enc = start(mf);
    expect(types(await enc.encode(frame()))).toEqual([7, 8, 5]);
    const hrs = mf.activations[0]!.current.calls.flatMap((c) => (c.call === 'processInput' ? [c.hr] : []));
    expect(hrs).toEqual([0xc00d36b5 | 0, 0]);
    await enc.close();
  });

  test("a stream change at ProcessOutput takes the MFT's new H.264 type and still delivers the frame", async () => {
    const mf = new FakeMf({ 'software-encoder': [{ ...SW, streamChangeFirst: true }] });
    const enc = start(mf);
    expect(types(await enc.encode(frame()))).toEqual([7, 8, 5]);
    expect(mf.activations[0]!.current.calls.filter((c) => c.call === 'useAvailableOutputType')).toEqual([
      { call: 'useAvailableOutputType', subtype: 'H264' },
    ]);
    await enc.close();
  });
});

describe('MF encoder: keyframes on demand', () => {
  test('the very next frame is an IDR, forced through ICodecAPI on the same MFT, with SPS/PPS in front', async () => {
    const mf = new FakeMf({ 'software-encoder': [{ ...SW, parameterSets: 'first-idr' }] });
    const enc = start(mf);
    await enc.encode(frame());
    expect(types(await enc.encode(frame()))).toEqual([1]);
    enc.requestKeyframe();
    const key = await enc.encode(frame());
    expect({ types: types(key), keyframe: key.keyframe }).toEqual({ types: [7, 8, 5], keyframe: true });
    expect(types(await enc.encode(frame()))).toEqual([1]);
    const forced = await enc.encode(frame(), { keyFrame: true });
    expect(types(forced)).toEqual([7, 8, 5]);
    expect(enc.sessionsStarted).toBe(1);
    const tr = mf.activations[0]!.current;
    // forceKeyFrame is set right before the ProcessInput of the frame it is for.
    const order = tr.calls
      .filter(
        (c) => c.call === 'processInput' || (c.call === 'setCodecValue' && c.property === 'forceKeyFrame'),
      )
      .map((c) => c.call);
    expect(order).toEqual([
      'processInput',
      'processInput',
      'setCodecValue',
      'processInput',
      'processInput',
      'setCodecValue',
      'processInput',
    ]);
    await enc.close();
  });

  test("SPS/PPS come from the output type's sequence header when the MFT never puts them in the stream", async () => {
    const mf = new FakeMf({ 'software-encoder': [{ ...SW, parameterSets: 'header-only' }] });
    const enc = start(mf);
    expect(types(await enc.encode(frame()))).toEqual([7, 8, 5]);
    enc.requestKeyframe();
    expect(types(await enc.encode(frame()))).toEqual([7, 8, 5]);
    await enc.close();
  });

  test('an MFT that refuses CODECAPI_AVEncVideoForceKeyFrame is replaced by a fresh one, whose first frame is the IDR', async () => {
    const mf = new FakeMf({ 'software-encoder': [{ ...SW, refuses: ['forceKeyFrame'] }] });
    const enc = start(mf);
    await enc.encode(frame());
    enc.requestKeyframe();
    const key = await enc.encode(frame());
    expect(types(key)).toEqual([7, 8, 5]);
    expect(enc.sessionsStarted).toBe(2);
    expect(mf.activations[0]!.transforms.map((t) => t.closed)).toEqual([true, false]);
    await enc.close();
    expect(mf.openTransforms()).toBe(0);
  });
});

describe('MF encoder: rate changes', () => {
  test('a new bitrate goes to the running MFT (CODECAPI_AVEncCommonMeanBitRate), without a keyframe', async () => {
    const mf = new FakeMf({ 'software-encoder': [SW] });
    const enc = start(mf);
    await enc.encode(frame());
    enc.setBitrate(500_000);
    expect(types(await enc.encode(frame()))).toEqual([1]);
    expect(enc.sessionsStarted).toBe(1);
    expect(mf.activations[0]!.current.codecValues().at(-1)).toBe('meanBitRate=500000');
    await enc.close();
  });

  test('an MFT that refuses a bitrate change is recreated with it at the next frame', async () => {
    const mf = new FakeMf({ 'software-encoder': [{ ...SW, refuses: ['meanBitRate'] }] });
    const enc = start(mf);
    await enc.encode(frame());
    enc.setBitrate(500_000);
    expect(types(await enc.encode(frame()))).toEqual([7, 8, 5]);
    expect(enc.sessionsStarted).toBe(2);
    const out = mf.activations[0]!.current.calls.find((c) => c.call === 'setOutputType');
    expect(out?.call === 'setOutputType' && out.type.bitrate).toBe(500_000);
    await enc.close();
  });

  test('a new fps or frame size starts a new MFT with the new media types', async () => {
    const mf = new FakeMf({ 'software-encoder': [SW] });
    const enc = start(mf);
    await enc.encode(frame());
    enc.setFps(15);
    expect(types(await enc.encode(frame()))).toEqual([7, 8, 5]);
    const bigger = await enc.encode(frame(128, 64));
    expect({ types: types(bigger), width: bigger.width, height: bigger.height }).toEqual({
      types: [7, 8, 5],
      width: 128,
      height: 64,
    });
    const inputs = mf.activations[0]!.transforms.map((t) => t.calls.find((c) => c.call === 'setInputType'));
    expect(
      inputs.map((c) => c?.call === 'setInputType' && [c.type.width, c.type.height, c.type.fps]),
    ).toEqual([
      [W, H, 30],
      [W, H, 15],
      [128, 64, 15],
    ]);
    await enc.close();
    expect(mf.openTransforms()).toBe(0);
  });
});

describe('MF encoder: asynchronous (hardware) MFT', () => {
  test('unlocks the MFT, feeds it only after METransformNeedInput and takes output after METransformHaveOutput, polling on the clock', async () => {
    const clock = new FakeClock();
    const mf = new FakeMf({ 'hardware-encoder': [HW] }, clock.now);
    const enc = start(mf, clock);
    const tr = mf.activations[0]!.current;
    expect(tr.calls[0]).toEqual({ call: 'unlockAsync' });
    let first: EncodedFrame | undefined;
    let second: EncodedFrame | undefined;
    void enc.encode(frame()).then((f) => (first = f));
    void enc.encode(frame()).then((f) => (second = f));
    await settle();
    // One METransformNeedInput so far: one frame in, the other waits; nothing out yet.
    expect(tr.calls.filter((c) => c.call === 'processInput')).toHaveLength(1);
    expect(first).toBeUndefined();
    await clock.advance(1);
    expect(first && types(first)).toEqual([7, 8, 5]);
    expect(second).toBeUndefined();
    await clock.advance(1);
    expect(second && types(second)).toEqual([1]);
    // No ProcessInput was refused: the encoder never fed the MFT without a METransformNeedInput.
    expect(
      tr.calls.filter((c) => c.call === 'processInput').map((c) => c.call === 'processInput' && c.hr),
    ).toEqual([0, 0]);
    expect(clock.pending).toEqual([]); // polling stops when nothing is inside the MFT
    await enc.close();
  });

  test('a keyframe on demand on an async MFT is the next frame out', async () => {
    const clock = new FakeClock();
    const mf = new FakeMf({ 'hardware-encoder': [HW] }, clock.now);
    const enc = start(mf, clock);
    const outs: EncodedFrame[] = [];
    for (let i = 0; i < 3; i++) {
      const p = enc.encode(frame(), { keyFrame: i === 2 });
      await clock.advance(1);
      outs.push(await p);
    }
    expect(outs.map(types)).toEqual([[7, 8, 5], [1], [7, 8, 5]]);
    await enc.close();
  });

  test('a frame the MFT drops is rejected as dropped, and the next one still arrives', async () => {
    const clock = new FakeClock();
    const mf = new FakeMf({ 'hardware-encoder': [{ ...HW, dropFrame: 1 }] }, clock.now);
    const enc = start(mf, clock);
    const a = enc.encode(frame());
    await clock.advance(1);
    await a;
    const b = enc.encode(frame());
    const c = enc.encode(frame());
    const bResult = b.then(
      () => 'resolved',
      (e: EncoderError) => e.code,
    );
    await clock.advance(3);
    expect(await bResult).toBe('dropped');
    expect(types(await c)).toEqual([1]);
    await enc.close();
  });

  test('an event with a failing status fails the encoder: pending frames and later calls are rejected as failed', async () => {
    const clock = new FakeClock();
    const mf = new FakeMf(
      { 'hardware-encoder': [{ ...HW, errorAfterFirstOutput: 0x8876_0000 | 0 }] },
      clock.now,
    );
    const enc = start(mf, clock);
    const a = enc.encode(frame());
    const b = enc.encode(frame()).catch((e: EncoderError) => e);
    await clock.advance(1);
    await a;
    await clock.advance(1);
    expect(await b).toMatchObject({ code: 'failed' });
    await expect(enc.encode(frame())).rejects.toMatchObject({ code: 'failed' });
    expect(mf.openTransforms()).toBe(0);
    await enc.close();
  });
});

describe('MF encoder: closing', () => {
  test('rejects frames still inside as closed, shuts the MFT down and releases it; later calls are refused', async () => {
    const clock = new FakeClock();
    const mf = new FakeMf({ 'hardware-encoder': [HW] }, clock.now);
    const enc = start(mf, clock);
    const inside = enc.encode(frame()).catch((e: EncoderError) => e.code);
    await settle();
    await enc.close();
    expect(await inside).toBe('closed');
    expect(mf.openTransforms()).toBe(0);
    expect(mf.activations[0]!.released).toBe(true);
    await expect(enc.encode(frame())).rejects.toMatchObject({ code: 'closed' });
    expect(clock.pending).toEqual([]);
  });
});
