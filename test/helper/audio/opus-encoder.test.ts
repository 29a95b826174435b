import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { toneFrame } from '../../../src/helper/audio/fake-audio-capture.js';
import { createOpusEncoder, isDigitalSilence } from '../../../src/helper/audio/opus-encoder.js';
import { FRAME_BYTES, SAMPLES_PER_FRAME } from '../../../src/helper/audio/pcm-frames.js';
import { dominantFrequency } from './tone.js';

type Decoder = { decode(p: Buffer): Buffer; delete(): void };
const OpusScript = createRequire(import.meta.url)('opusscript') as new (r: number, c: number) => Decoder;

describe('Opus encoder (opusscript)', () => {
  it('turns 20 ms stereo frames into packets of ~96 kb/s that decode to the same tone', () => {
    const enc = createOpusEncoder(96_000);
    const dec = new OpusScript(48_000, 2);
    const sizes: number[] = [];
    let decoded: Buffer = Buffer.alloc(0);
    for (let k = 0; k < 50; k++) {
      const packet = enc.encode(toneFrame(1000, 8000, k * SAMPLES_PER_FRAME));
      sizes.push(packet.length);
      decoded = dec.decode(packet);
    }
    enc.close();
    dec.delete();
    const kbps = (sizes.slice(10).reduce((a, b) => a + b, 0) * 8) / (40 * 0.02) / 1000;
    expect(kbps).toBeGreaterThan(60);
    expect(kbps).toBeLessThan(130);
    expect(decoded.length).toBe(FRAME_BYTES);
    expect(dominantFrequency(decoded)).toBe(1000);
  });

  it('refuses a frame of the wrong size and anything after close()', () => {
    const enc = createOpusEncoder();
    expect(() => enc.encode(Buffer.alloc(100))).toThrow(/3840/);
    enc.close();
    expect(() => enc.encode(Buffer.alloc(FRAME_BYTES))).toThrow(expect.objectContaining({ code: 'closed' }));
  });
});

describe('isDigitalSilence', () => {
  it('is true only when every sample is zero', () => {
    expect(isDigitalSilence(Buffer.alloc(FRAME_BYTES))).toBe(true);
    const one = Buffer.alloc(FRAME_BYTES);
    one[FRAME_BYTES - 1] = 1;
    expect(isDigitalSilence(one)).toBe(false);
    expect(isDigitalSilence(Buffer.from([0, 0, 0, 0]))).toBe(true);
    expect(isDigitalSilence(Buffer.from([0, 0, 0, 9]))).toBe(false);
  });
});
