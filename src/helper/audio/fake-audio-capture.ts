/**
 * An AudioCapture that plays a generated tone (or silence) on the timers it is given: what the
 * audio pipeline's tests and the encoder benchmark feed in place of a sound server.
 */
import type { Timers, TimerHandle } from '../../time/timers.js';
import { AUDIO_SAMPLE_RATE, type AudioCapture, type AudioError, type PcmChunk } from './audio-capture.js';
import { FRAME_BYTES, FRAME_MS, SAMPLES_PER_FRAME } from './pcm-frames.js';

export interface FakeAudioOptions {
  timers: Timers;
  /** Tone frequency in Hz; 0 plays digital silence. */
  frequency: number;
  /** Peak amplitude, 0…32767 (default 8000). */
  amplitude?: number;
}

/** One 20 ms frame of a sine at `frequency`, starting at sample `first` (both channels alike). */
export function toneFrame(frequency: number, amplitude: number, first: number): Buffer {
  const out = Buffer.alloc(FRAME_BYTES);
  if (frequency === 0) return out;
  for (let i = 0; i < SAMPLES_PER_FRAME; i++) {
    const v = Math.round(amplitude * Math.sin((2 * Math.PI * frequency * (first + i)) / AUDIO_SAMPLE_RATE));
    out.writeInt16LE(v, i * 4);
    out.writeInt16LE(v, i * 4 + 2);
  }
  return out;
}

export function createFakeAudioCapture(opts: FakeAudioOptions): AudioCapture {
  const { timers } = opts;
  const listeners = new Set<(chunk: PcmChunk) => void>();
  const start = timers.now();
  let sample = 0;
  let timer: TimerHandle | undefined;
  let closed = false;
  const tick = (): void => {
    if (closed) return;
    const chunk = {
      data: toneFrame(opts.frequency, opts.amplitude ?? 8000, sample),
      timestampUs: Math.round((start + (sample / AUDIO_SAMPLE_RATE) * 1000) * 1000),
    };
    sample += SAMPLES_PER_FRAME;
    for (const cb of [...listeners]) cb(chunk);
    timer = timers.setTimeout(tick, FRAME_MS);
  };
  timer = timers.setTimeout(tick, FRAME_MS);
  return {
    onPcm(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    onEnded: (_cb: (err: AudioError) => void) => () => {},
    close() {
      closed = true;
      timers.clearTimeout(timer);
      listeners.clear();
      return Promise.resolve();
    },
  };
}
