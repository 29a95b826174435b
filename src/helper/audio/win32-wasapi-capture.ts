/**
 * AudioCapture on Windows: WASAPI loopback of the default render endpoint (what the console user
 * hears), in shared mode, asking the audio engine to convert its mix format to ours (s16le, 48 kHz,
 * stereo: AUTOCONVERTPCM with the default-quality resampler), read by polling the capture client every
 * 10 ms on the helper's JS thread (loopback streams have no event callback before Windows 10 1703).
 *
 * Documented behaviour this relies on: a loopback stream delivers **no packets while nothing plays**
 * (so digital silence costs nothing here before the silence gate); a packet flagged
 * AUDCLNT_BUFFERFLAGS_SILENT is to be read as zeros; each GetBuffer is answered by a ReleaseBuffer of
 * the same frame count before the next GetBuffer. Every interface is a `ComRef` released exactly once
 * (`liveComRefs()` in the Wine test).
 *
 * Which endpoint a SYSTEM helper in a user session opens is the question design/WINDOWS.md leaves to
 * the VM (the audio endpoints are per machine, the default one per user); not run on Windows yet.
 */
import koffi from 'koffi';
import { ComRef, releaseAll } from '../../native/win32/com.js';
import { ole32 } from '../../native/win32/mfplat.js';
import { COINIT_MULTITHREADED, RPC_E_CHANGED_MODE } from '../../native/win32/mf-types.js';
import {
  AUDCLNT_BUFFERFLAGS_SILENT,
  AUDCLNT_SHAREMODE_SHARED,
  AUDCLNT_STREAMFLAGS_AUTOCONVERTPCM,
  AUDCLNT_STREAMFLAGS_LOOPBACK,
  AUDCLNT_STREAMFLAGS_SRC_DEFAULT_QUALITY,
  CLSCTX_ALL,
  CLSID_MMDeviceEnumerator,
  eConsole,
  eRender,
  IAudioCaptureClient,
  IAudioClient,
  IID_IAudioCaptureClient,
  IID_IAudioClient,
  IID_IMMDeviceEnumerator,
  IMMDevice,
  IMMDeviceEnumerator,
  ole32Com,
  WAVE_FORMAT_PCM,
  type WaveFormatFields,
} from '../../native/win32/mmdevapi.js';
import { Win32Error } from '../../native/win32/win32-error.js';
import type { Logger } from '../../log/logger.js';
import { realTimers, type TimerHandle, type Timers } from '../../time/timers.js';
import { monotonicUs } from '../capture/clock.js';
import { Listeners } from '../webrtc/listeners.js';
import {
  AUDIO_CHANNELS,
  AUDIO_FRAME_BYTES,
  AUDIO_SAMPLE_RATE,
  AudioError,
  type AudioCapture,
  type PcmChunk,
} from './audio-capture.js';
import { PcmFramer } from './pcm-frames.js';

const POLL_MS = 10;
/** The engine's buffer for us: 200 ms (in 100 ns units), so a late poll loses nothing. */
const BUFFER_HNS = 2_000_000;

/** s16le 48 kHz stereo, as the encoder takes it. */
export const CAPTURE_FORMAT: WaveFormatFields = {
  wFormatTag: WAVE_FORMAT_PCM,
  nChannels: AUDIO_CHANNELS,
  nSamplesPerSec: AUDIO_SAMPLE_RATE,
  nAvgBytesPerSec: AUDIO_SAMPLE_RATE * AUDIO_FRAME_BYTES,
  nBlockAlign: AUDIO_FRAME_BYTES,
  wBitsPerSample: 16,
  cbSize: 0,
};

function hr(call: string, value: unknown): void {
  const code = value as number;
  if (code < 0) throw new Win32Error(call, code, { hresult: true });
}

export interface WasapiCaptureOptions {
  log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  timers?: Timers;
  now?: () => number;
}

/** Opens the default render endpoint in loopback and starts it; throws AudioError('unavailable'). */
export function startWasapiCapture(opts: WasapiCaptureOptions): AudioCapture {
  const timers = opts.timers ?? realTimers;
  const now = opts.now ?? monotonicUs;
  const co = ole32().CoInitializeEx(null, COINIT_MULTITHREADED) as number;
  if (co < 0 && co !== RPC_E_CHANGED_MODE)
    throw new AudioError('unavailable', 'COM could not be initialised', {
      cause: new Win32Error('CoInitializeEx', co, { hresult: true }),
    });
  let enumerator: ComRef | undefined;
  let device: ComRef | undefined;
  let client: ComRef | undefined;
  let capture: ComRef | undefined;
  try {
    const out: unknown[] = [null];
    hr(
      'CoCreateInstance(MMDeviceEnumerator)',
      ole32Com().CoCreateInstance(CLSID_MMDeviceEnumerator, null, CLSCTX_ALL, IID_IMMDeviceEnumerator, out),
    );
    enumerator = new ComRef(out[0], 'IMMDeviceEnumerator');
    hr(
      'IMMDeviceEnumerator::GetDefaultAudioEndpoint',
      enumerator.call(
        IMMDeviceEnumerator.GetDefaultAudioEndpoint[0],
        IMMDeviceEnumerator.GetDefaultAudioEndpoint[1],
        eRender,
        eConsole,
        out,
      ),
    );
    device = new ComRef(out[0], 'IMMDevice');
    hr(
      'IMMDevice::Activate(IAudioClient)',
      device.call(IMMDevice.Activate[0], IMMDevice.Activate[1], IID_IAudioClient, CLSCTX_ALL, null, out),
    );
    client = new ComRef(out[0], 'IAudioClient');
    const flags =
      (AUDCLNT_STREAMFLAGS_LOOPBACK |
        AUDCLNT_STREAMFLAGS_AUTOCONVERTPCM |
        AUDCLNT_STREAMFLAGS_SRC_DEFAULT_QUALITY) >>>
      0;
    hr(
      'IAudioClient::Initialize',
      client.call(
        IAudioClient.Initialize[0],
        IAudioClient.Initialize[1],
        AUDCLNT_SHAREMODE_SHARED,
        flags,
        BUFFER_HNS,
        0,
        CAPTURE_FORMAT,
        null,
      ),
    );
    hr(
      'IAudioClient::GetService(IAudioCaptureClient)',
      client.call(IAudioClient.GetService[0], IAudioClient.GetService[1], IID_IAudioCaptureClient, out),
    );
    capture = new ComRef(out[0], 'IAudioCaptureClient');
    hr('IAudioClient::Start', client.call(IAudioClient.Start[0], IAudioClient.Start[1]));
  } catch (err) {
    releaseAll(enumerator, device, client, capture);
    throw new AudioError(
      'unavailable',
      `no loopback capture of the default output: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const refs = { enumerator, device, client, capture };
  return pollingCapture(refs, timers, now, opts.log);
}

function pollingCapture(
  refs: { enumerator: ComRef; device: ComRef; client: ComRef; capture: ComRef },
  timers: Timers,
  now: () => number,
  log: WasapiCaptureOptions['log'],
): AudioCapture {
  const pcm = new Listeners<[PcmChunk]>('pcm', log);
  const ended = new Listeners<[AudioError]>('audio_ended', log);
  const framer = new PcmFramer();
  let timer: TimerHandle | undefined;
  let closed = false;
  const { capture, client } = refs;

  const close = (): void => {
    if (closed) return;
    closed = true;
    timers.clearTimeout(timer);
    try {
      client.call(IAudioClient.Stop[0], IAudioClient.Stop[1]);
    } finally {
      releaseAll(refs.enumerator, refs.device, refs.client, refs.capture);
    }
  };

  /** Reads every packet waiting: GetBuffer, copy (or zeros when flagged silent), ReleaseBuffer. */
  const drain = (): void => {
    const size: number[] = [0];
    for (;;) {
      hr(
        'IAudioCaptureClient::GetNextPacketSize',
        capture.call(
          IAudioCaptureClient.GetNextPacketSize[0],
          IAudioCaptureClient.GetNextPacketSize[1],
          size,
        ),
      );
      if (!size[0]) return;
      const data: unknown[] = [null];
      const frames: number[] = [0];
      const flags: number[] = [0];
      const position: bigint[] = [0n];
      const qpc: bigint[] = [0n];
      hr(
        'IAudioCaptureClient::GetBuffer',
        capture.call(
          IAudioCaptureClient.GetBuffer[0],
          IAudioCaptureClient.GetBuffer[1],
          data,
          frames,
          flags,
          position,
          qpc,
        ),
      );
      const count = frames[0] ?? 0;
      let bytes: Buffer;
      try {
        bytes =
          (flags[0]! & AUDCLNT_BUFFERFLAGS_SILENT) !== 0 || count === 0
            ? Buffer.alloc(count * AUDIO_FRAME_BYTES)
            : Buffer.from(koffi.view(data[0], count * AUDIO_FRAME_BYTES) as ArrayBuffer);
      } finally {
        hr(
          'IAudioCaptureClient::ReleaseBuffer',
          capture.call(IAudioCaptureClient.ReleaseBuffer[0], IAudioCaptureClient.ReleaseBuffer[1], count),
        );
      }
      for (const frame of framer.push(bytes, now())) pcm.emit(frame);
    }
  };

  const tick = (): void => {
    if (closed) return;
    try {
      drain();
    } catch (err) {
      const error = new AudioError('failed', `loopback capture stopped: ${(err as Error).message}`, {
        cause: err,
      });
      log.warn({ err: error.message }, 'audio capture ended');
      const listeners = ended;
      close();
      listeners.emit(error);
      return;
    }
    timer = timers.setTimeout(tick, POLL_MS);
  };
  timer = timers.setTimeout(tick, POLL_MS);

  return {
    onPcm: (cb) => pcm.add(cb),
    onEnded: (cb) => ended.add(cb),
    close() {
      close();
      pcm.clear();
      ended.clear();
      return Promise.resolve();
    },
  };
}
