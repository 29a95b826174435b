/**
 * The session's sound as it is played: PCM from the monitor of the default output (Linux PulseAudio or
 * PipeWire's PulseAudio server; Windows WASAPI loopback), in one fixed format so the encoder
 * never resamples: signed 16-bit little-endian, 48 kHz, two interleaved channels.
 *
 * One interface, one implementation per platform (`pulse`; `wasapi`, written and ABI-checked but not run
 * on Windows yet), and `fake` (a generated tone) for tests.
 */
import { PortholeError } from '../../errors/porthole-error.js';

export const AUDIO_SAMPLE_RATE = 48_000;
export const AUDIO_CHANNELS = 2;
/** Bytes per sample frame (both channels). */
export const AUDIO_FRAME_BYTES = AUDIO_CHANNELS * 2;

export type AudioCaptureKind = 'pulse' | 'wasapi' | 'fake';

/** `unavailable`: no sound server or no capture program; `failed`: it stopped; `closed`: used after close. */
export class AudioError extends PortholeError<'unavailable' | 'failed' | 'closed'> {
  override name = 'AudioError';
}

export interface PcmChunk {
  /** Interleaved s16le stereo at 48 kHz; a whole number of sample frames. */
  data: Buffer;
  /**
   * Capture time of the chunk's first sample in µs on a monotonic clock (any epoch): the time the
   * capture began plus the samples delivered before this chunk, so consecutive chunks are contiguous.
   */
  timestampUs: number;
}

export interface AudioCapture {
  onPcm(cb: (chunk: PcmChunk) => void): () => void;
  /** The capture ended by itself (the sound server went away); not called after close(). */
  onEnded(cb: (err: AudioError) => void): () => void;
  /** Stops capturing and frees what it holds (a child process): resolves once it is gone. */
  close(): Promise<void>;
}
