/**
 * Behaviour both encoder implementations share: synthetic frames in, Annex-B out, decodable by
 * ffmpeg, frame numbers preserved in order, keyframes with SPS/PPS, keyframes on request.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readStamp } from '../../../src/helper/capture/frame-stamp.js';
import { SyntheticFrameSource } from '../../../src/helper/capture/synthetic-capturer.js';
import { NAL_IDR, NAL_PPS, NAL_SPS, nalTypes } from '../../../src/helper/encode/annexb.js';
import type { EncodedFrame, Encoder, EncoderKind } from '../../../src/helper/encode/encoder.js';
import { createEncoder } from '../../../src/helper/encode/index.js';
import { loadWebCodecs } from '../../../src/helper/encode/webcodecs-encoder.js';
import { decodeH264 } from './decode.js';

const W = 640;
const H = 360;
const display = { index: 0, name: 's', x: 0, y: 0, width: W, height: H, primary: true };

/** The webcodecs encoder is optional (see webcodecs-encoder.ts); CI installs it, a bare clone may not. */
const webcodecsInstalled = await loadWebCodecs().then(
  () => true,
  () => false,
);
const kinds: EncoderKind[] = webcodecsInstalled ? ['webcodecs', 'ffmpeg'] : ['ffmpeg'];

describe('webcodecs encoder availability', () => {
  it.runIf(!webcodecsInstalled)('names the package to install when it is missing', async () => {
    await expect(
      createEncoder({ width: W, height: H, fps: 30, bitrate: 1e6 }, { kind: 'webcodecs' }),
    ).rejects.toThrow(/npm install @napi-rs\/webcodecs/);
  });
  it.runIf(webcodecsInstalled)('loads the optional @napi-rs/webcodecs binding', async () => {
    expect(typeof (await loadWebCodecs()).VideoEncoder).toBe('function');
  });
});

describe.each<EncoderKind>(kinds)('%s encoder', (kind) => {
  let encoder: Encoder | undefined;
  afterEach(async () => {
    await encoder?.close();
    encoder = undefined;
  });

  async function encodeFrames(
    count: number,
    onFrame?: (i: number, e: Encoder) => void,
  ): Promise<EncodedFrame[]> {
    encoder = await createEncoder({ width: W, height: H, fps: 30, bitrate: 2_000_000 }, { kind });
    const source = new SyntheticFrameSource(display, 'full');
    const out: EncodedFrame[] = [];
    for (let i = 0; i < count; i++) {
      onFrame?.(i, encoder);
      out.push(await encoder.encode(source.grab()));
    }
    return out;
  }

  it('produces frames a decoder reads back with the frame numbers sent, in order', async () => {
    const out = await encodeFrames(20);
    expect(out).toHaveLength(20);
    const decoded = await decodeH264(Buffer.concat(out.map((f) => f.data)), W, H);
    expect(decoded).toHaveLength(20);
    expect(decoded.map((d) => readStamp(d, W, H, W * 4)?.frame)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });

  it('starts with a keyframe that carries SPS and PPS, then sends delta frames', async () => {
    const out = await encodeFrames(5);
    expect(out[0]?.keyframe).toBe(true);
    expect(nalTypes(out[0]!.data).slice(0, 2)).toEqual([NAL_SPS, NAL_PPS]);
    expect(nalTypes(out[0]!.data)).toContain(NAL_IDR);
    expect(out.slice(1).map((f) => f.keyframe)).toEqual([false, false, false, false]);
  });

  it('answers a keyframe request within the next two frames, with SPS and PPS', async () => {
    const out = await encodeFrames(12, (i, e) => {
      if (i === 8) e.requestKeyframe();
    });
    const key = out.slice(8, 10).find((f) => f.keyframe);
    expect(key).toBeDefined();
    expect(nalTypes(key!.data)).toEqual(expect.arrayContaining([NAL_SPS, NAL_PPS, NAL_IDR]));
    const decoded = await decodeH264(Buffer.concat(out.slice(out.indexOf(key!)).map((f) => f.data)), W, H);
    expect(decoded.length).toBe(out.length - out.indexOf(key!));
  });

  it('carries the capture timestamp through', async () => {
    const source = new SyntheticFrameSource(display, 'full');
    encoder = await createEncoder({ width: W, height: H, fps: 30, bitrate: 2_000_000 }, { kind });
    const frame = source.grab();
    const out = await encoder.encode(frame);
    expect(out.captureTimestampUs).toBe(frame.timestampUs);
    expect(out.timestampUs).toBeGreaterThanOrEqual(frame.timestampUs);
  });

  it('keeps going after a bitrate and fps change, and follows a new frame size with a keyframe', async () => {
    const out = await encodeFrames(4, (i, e) => {
      if (i === 2) {
        e.setBitrate(500_000);
        e.setFps(15);
      }
    });
    expect(out).toHaveLength(4);
    const small = new SyntheticFrameSource({ ...display, width: 320, height: 240 }, 'full');
    const resized = await encoder!.encode(small.grab());
    expect(resized.keyframe).toBe(true);
    expect({ w: resized.width, h: resized.height }).toEqual({ w: 320, h: 240 });
    const decoded = await decodeH264(resized.data, 320, 240);
    expect(readStamp(decoded[0]!, 320, 240, 320 * 4)?.frame).toBe(1);
  });
});
