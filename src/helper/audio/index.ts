/**
 * Picks the session's audio capture: PulseAudio (or PipeWire's pulse server) on Linux, WASAPI loopback
 * on Windows (loaded only there: it binds COM through koffi), `fake` for tests.
 */
import type { Logger } from '../../log/logger.js';
import { realTimers, type Timers } from '../../time/timers.js';
import { lookUpUser } from '../files/index.js';
import { AudioError, type AudioCapture, type AudioCaptureKind } from './audio-capture.js';
import { createFakeAudioCapture } from './fake-audio-capture.js';
import { startPulseCapture } from './pulse-capture.js';
import { findPulseTarget } from './pulse-server.js';

export interface AudioCaptureOptions {
  kind?: AudioCaptureKind;
  log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  env?: NodeJS.ProcessEnv;
  /** `fake` only: the tone to play (Hz, default 1000; 0 for silence) and the timers that pace it. */
  fake?: { frequency: number; timers?: Timers };
}

export async function startAudioCapture(opts: AudioCaptureOptions): Promise<AudioCapture> {
  const kind = opts.kind ?? (process.platform === 'win32' ? 'wasapi' : 'pulse');
  if (kind === 'fake') {
    return createFakeAudioCapture({
      timers: opts.fake?.timers ?? realTimers,
      frequency: opts.fake?.frequency ?? 0,
    });
  }
  if (kind === 'wasapi') {
    if (process.platform !== 'win32') throw new AudioError('unavailable', 'WASAPI exists only on Windows');
    const { startWasapiCapture } = await import('./win32-wasapi-capture.js');
    return startWasapiCapture({ log: opts.log });
  }
  let target;
  try {
    target = await findPulseTarget({ env: opts.env ?? process.env, uid: process.getuid?.(), lookUpUser });
  } catch (err) {
    throw new AudioError('unavailable', (err as Error).message, { cause: err });
  }
  return startPulseCapture({ target, log: opts.log });
}
