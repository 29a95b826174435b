/**
 * AudioCapture from a PulseAudio server (or PipeWire's pulse server): `parec` recording the monitor of
 * the default sink (`@DEFAULT_MONITOR@`: what the session plays, whichever output is the default now)
 * as raw s16le 48 kHz stereo on its stdout, with a 10 ms fragment so a frame is never waited for long.
 *
 * One child process per capture; close() ends it (SIGTERM, SIGKILL after a grace) and resolves when it
 * has exited, so nothing outlives the capture.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { monotonicUs } from '../capture/clock.js';
import type { Logger } from '../../log/logger.js';
import { Listeners } from '../webrtc/listeners.js';
import {
  AUDIO_CHANNELS,
  AUDIO_SAMPLE_RATE,
  AudioError,
  type AudioCapture,
  type PcmChunk,
} from './audio-capture.js';
import { PcmFramer } from './pcm-frames.js';
import type { PulseTarget } from './pulse-server.js';

const KILL_GRACE_MS = 1000;
/** A monitor delivers within ~10 ms once connected; a server that accepts and sends nothing is stuck. */
const START_TIMEOUT_MS = 5000;
const MAX_STDERR = 2000;

export interface PulseCaptureOptions {
  target: PulseTarget;
  log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  /** The recording program (default `parec`, from pulseaudio-utils). */
  parec?: string;
  /** The source to record (default the default sink's monitor). */
  device?: string;
  now?: () => number;
}

export function parecArgs(target: PulseTarget, device = '@DEFAULT_MONITOR@'): string[] {
  return [
    `--server=${target.server}`,
    `--device=${device}`,
    '--format=s16le',
    `--rate=${AUDIO_SAMPLE_RATE}`,
    `--channels=${AUDIO_CHANNELS}`,
    '--raw',
    '--latency-msec=10',
    '--client-name=porthole',
    '--stream-name=remote desktop audio',
  ];
}

export function startPulseCapture(opts: PulseCaptureOptions): Promise<AudioCapture> {
  const { log, target } = opts;
  const now = opts.now ?? monotonicUs;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    PULSE_SERVER: target.server,
    ...(target.runAs?.home
      ? { HOME: target.runAs.home }
      : process.env.HOME
        ? { HOME: process.env.HOME }
        : {}),
  };
  const child: ChildProcess = spawn(opts.parec ?? 'parec', parecArgs(target, opts.device), {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(target.runAs ? { uid: target.runAs.uid, gid: target.runAs.gid } : {}),
  });
  const pcm = new Listeners<[PcmChunk]>('pcm', log);
  const ended = new Listeners<[AudioError]>('audio_ended', log);
  const framer = new PcmFramer();
  let stderr = '';
  let closing = false;
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));

  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-MAX_STDERR);
  });
  child.stdout?.on('data', (bytes: Buffer) => {
    for (const frame of framer.push(bytes, now())) pcm.emit(frame);
  });
  const capture: AudioCapture = {
    onPcm: (cb) => pcm.add(cb),
    onEnded: (cb) => ended.add(cb),
    async close() {
      if (closing) return exited;
      closing = true;
      pcm.clear();
      ended.clear();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
        force.unref();
        await exited;
        clearTimeout(force);
      }
      return exited;
    },
  };

  return new Promise((resolve, reject) => {
    const startTimer = setTimeout(() => {
      reject(
        new AudioError('unavailable', `parec (${target.server}) delivered nothing in ${START_TIMEOUT_MS} ms`),
      );
      void capture.close();
    }, START_TIMEOUT_MS);
    startTimer.unref();
    const failed = (err: AudioError): void => {
      if (started) {
        if (!closing) {
          log.warn({ err: err.message }, 'audio capture ended');
          ended.emit(err);
        }
      } else {
        clearTimeout(startTimer);
        reject(err);
      }
    };
    let started = false;
    child.once('error', (err) =>
      failed(new AudioError('unavailable', `cannot run parec: ${err.message}`, { cause: err })),
    );
    child.once('close', (code, signal) => {
      const why = stderr.trim().split('\n').pop() || `exit ${code ?? signal}`;
      failed(new AudioError(started ? 'failed' : 'unavailable', `parec (${target.server}): ${why}`));
    });
    // parec writes nothing on success until samples flow; the first bytes (or a refusal) settle it.
    child.stdout?.once('data', () => {
      clearTimeout(startTimer);
      started = true;
      log.info({ server: target.server, asUser: target.runAs?.uid }, 'audio capture started');
      resolve(capture);
    });
  });
}
