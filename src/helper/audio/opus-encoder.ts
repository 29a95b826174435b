/**
 * Opus encoding of 20 ms PCM frames (48 kHz stereo), in-process with opusscript: libopus compiled to
 * WebAssembly, so no native binary on any platform. Chosen over an ffmpeg libopus child by measurement
 * (design/MEDIA.md, Audio; `npm run bench audio`): about the same CPU per second of audio, no process,
 * no container to parse, and a packet back in well under a millisecond.
 */
import { createRequire } from 'node:module';
import { AudioError } from './audio-capture.js';
import { FRAME_BYTES, SAMPLES_PER_FRAME } from './pcm-frames.js';

export const DEFAULT_AUDIO_BITRATE = 96_000;

export interface OpusFrameEncoder {
  /** One 20 ms frame of s16le stereo PCM in, one Opus packet out. */
  encode(pcm: Buffer): Buffer;
  close(): void;
}

interface OpusScriptInstance {
  encode(buffer: Buffer, frameSize: number): Buffer;
  setBitrate(bitrate: number): void;
  encoderCTL(ctl: number, arg: number): void;
  delete(): void;
}
type OpusScriptClass = new (
  rate: 48000,
  channels: number,
  application: number,
  options?: { wasm?: boolean },
) => OpusScriptInstance;

/** OPUS_APPLICATION_AUDIO: music and system sounds as well as speech (not the VoIP tuning). */
const APPLICATION_AUDIO = 2049;
/** OPUS_SET_COMPLEXITY: 0 (cheapest) … 10 (libopus's default). */
const OPUS_SET_COMPLEXITY = 4010;

export function createOpusEncoder(bitrate = DEFAULT_AUDIO_BITRATE, complexity = 8): OpusFrameEncoder {
  let OpusScript: OpusScriptClass;
  try {
    // opusscript is CommonJS; createRequire keeps its WebAssembly loader out of every helper that never plays sound.
    OpusScript = createRequire(import.meta.url)('opusscript') as OpusScriptClass;
  } catch (err) {
    throw new AudioError('unavailable', 'the opusscript package is not installed', { cause: err });
  }
  let encoder: OpusScriptInstance | undefined = new OpusScript(48000, 2, APPLICATION_AUDIO, { wasm: true });
  encoder.setBitrate(bitrate);
  encoder.encoderCTL(OPUS_SET_COMPLEXITY, complexity);
  return {
    encode(pcm) {
      if (!encoder) throw new AudioError('closed', 'the Opus encoder is closed');
      if (pcm.length !== FRAME_BYTES)
        throw new Error(`an Opus frame is ${FRAME_BYTES} bytes, got ${pcm.length}`);
      return encoder.encode(pcm, SAMPLES_PER_FRAME);
    },
    close() {
      encoder?.delete();
      encoder = undefined;
    },
  };
}

const ZERO_FRAME = Buffer.alloc(FRAME_BYTES);

/** Every sample is exactly zero: what a monitor delivers while nothing plays (one memcmp per frame). */
export function isDigitalSilence(pcm: Buffer): boolean {
  if (pcm.length === FRAME_BYTES) return pcm.equals(ZERO_FRAME);
  for (const b of pcm) if (b !== 0) return false;
  return true;
}
