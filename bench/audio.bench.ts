/**
 * `npm run bench audio`: the session's sound.
 *
 * 1. The encoder choice (design/MEDIA.md, Audio): Opus 48 kHz stereo, 20 ms frames, 96 kb/s, from
 *    opusscript (libopus as WebAssembly, in the helper's process) and from an ffmpeg libopus child
 *    (raw PCM on stdin, Ogg pages of one packet on stdout). CPU per second of audio, as fast as it goes
 *    (30 s of a music-like signal: three tones and noise); per-frame latency when fed in real time
 *    (a frame every 20 ms: write → packet back).
 * 2. The helper's audio pipeline (AudioHub with the chosen encoder) on digital silence and on sound:
 *    CPU per second of audio and bytes per second sent.
 * 3. Capture → played latency: `--latency` (root, Debian's pulseaudio and chromium) runs the audio
 *    e2e stack (test/fixtures/audio-probe.ts) and reports tone bursts from the session's sink to their
 *    onset in the page; the A/V skew of a tone and a red screen made together in the session; then the
 *    CPU of the helper's parec with the sink silent and playing.
 */
import { spawn } from 'node:child_process';
import { AudioHub } from '../src/helper/audio/audio-hub.js';
import type { AudioCapture, PcmChunk } from '../src/helper/audio/audio-capture.js';
import { createOpusEncoder } from '../src/helper/audio/opus-encoder.js';
import { FRAME_BYTES, SAMPLES_PER_FRAME } from '../src/helper/audio/pcm-frames.js';
import { silentLogger } from '../src/log/logger.js';
import { machineLine, percentile } from './report.js';

const SECONDS = 30;
const FRAMES = (SECONDS * 1000) / 20;
const REALTIME_FRAMES = 150;

/** Frame k of a music-like signal: 220, 660 and 1500 Hz with a little noise, both channels. */
function musicFrame(k: number): Buffer {
  const out = Buffer.alloc(FRAME_BYTES);
  let seed = k * 7919 + 1;
  for (let i = 0; i < SAMPLES_PER_FRAME; i++) {
    const n = k * SAMPLES_PER_FRAME + i;
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const noise = (seed / 0x7fffffff - 0.5) * 600;
    const v =
      4000 * Math.sin((2 * Math.PI * 220 * n) / 48_000) +
      3000 * Math.sin((2 * Math.PI * 660 * n) / 48_000) +
      2000 * Math.sin((2 * Math.PI * 1500 * n) / 48_000) +
      noise;
    out.writeInt16LE(Math.round(v), i * 4);
    out.writeInt16LE(Math.round(v * 0.9), i * 4 + 2);
  }
  return out;
}

interface EncoderFigures {
  cpuMsPerAudioSecond: number;
  kbps: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
}

async function benchOpusscript(frames: Buffer[]): Promise<EncoderFigures> {
  const enc = createOpusEncoder(96_000);
  let bytes = 0;
  const cpu0 = process.cpuUsage();
  for (const f of frames) bytes += enc.encode(f).length;
  const cpu = process.cpuUsage(cpu0);
  const lat: number[] = [];
  for (let k = 0; k < REALTIME_FRAMES; k++) {
    const t = performance.now();
    enc.encode(frames[k % frames.length]!);
    lat.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 20));
  }
  enc.close();
  lat.sort((a, b) => a - b);
  return {
    cpuMsPerAudioSecond: (cpu.user + cpu.system) / 1000 / SECONDS,
    kbps: (bytes * 8) / SECONDS / 1000,
    latencyP50Ms: percentile(lat, 50),
    latencyP95Ms: percentile(lat, 95),
  };
}

const FFMPEG_ARGS = [
  ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
  ...['-probesize', '32', '-analyzeduration', '0'],
  ...['-f', 's16le', '-ar', '48000', '-ac', '2', '-i', 'pipe:0'],
  ...['-c:a', 'libopus', '-b:a', '96k', '-frame_duration', '20', '-application', 'audio'],
  ...['-f', 'ogg', '-page_duration', '20000', '-flush_packets', '1', 'pipe:1'],
];

/** Runs ffmpeg under bash so `times` reports its CPU; `realtime` paces frames and times each page. */
function runFfmpeg(
  frames: Buffer[],
  realtime: boolean,
): Promise<{ cpuMs: number; bytes: number; lat: number[] }> {
  const quoted = FFMPEG_ARGS.map((a) => `'${a}'`).join(' ');
  const child = spawn('bash', ['-c', `ffmpeg ${quoted}; times >&2`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let bytes = 0;
  const writes: number[] = [];
  const lat: number[] = [];
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    bytes += d.length;
    const t = performance.now();
    // Every page that came back answers the oldest frame still waiting.
    const pages = d.toString('latin1').split('OggS').length - 1;
    for (let i = 0; i < pages && writes.length; i++) lat.push(t - writes.shift()!);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const times = stderr.trim().split('\n').at(-1) ?? '';
      const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s/.exec(times);
      if (code !== 0 || !m) return reject(new Error(`ffmpeg: ${stderr}`));
      const cpuMs = (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000;
      resolve({ cpuMs, bytes, lat: lat.slice(2) });
    });
    void (async () => {
      for (const f of frames) {
        if (realtime) writes.push(performance.now());
        if (!child.stdin.write(f)) await new Promise((r) => child.stdin.once('drain', r));
        if (realtime) await new Promise((r) => setTimeout(r, 20));
      }
      child.stdin.end();
    })();
  });
}

async function benchFfmpeg(frames: Buffer[]): Promise<EncoderFigures> {
  const fast = await runFfmpeg(frames, false);
  const paced = await runFfmpeg(frames.slice(0, REALTIME_FRAMES), true);
  const lat = [...paced.lat].sort((a, b) => a - b);
  return {
    cpuMsPerAudioSecond: fast.cpuMs / SECONDS,
    kbps: (fast.bytes * 8) / SECONDS / 1000,
    latencyP50Ms: percentile(lat, 50),
    latencyP95Ms: percentile(lat, 95),
  };
}

/** The hub fed `frames` as fast as they come, all sound or all digital silence. */
async function benchHub(frames: Buffer[]): Promise<{ cpuMsPerAudioSecond: number; bytesPerSecond: number }> {
  const listeners = new Set<(c: PcmChunk) => void>();
  const capture: AudioCapture = {
    onPcm: (cb) => (listeners.add(cb), () => listeners.delete(cb)),
    onEnded: () => () => {},
    close: async () => {},
  };
  const hub = new AudioHub({
    startCapture: async () => capture,
    createEncoder: () => createOpusEncoder(),
    log: silentLogger,
  });
  let bytes = 0;
  const off = hub.subscribe((p) => (bytes += p.data.length + 12));
  await new Promise((r) => setImmediate(r));
  const cpu0 = process.cpuUsage();
  frames.forEach((data, k) => listeners.forEach((cb) => cb({ data, timestampUs: k * 20_000 })));
  const cpu = process.cpuUsage(cpu0);
  off();
  await hub.close();
  return { cpuMsPerAudioSecond: (cpu.user + cpu.system) / 1000 / SECONDS, bytesPerSecond: bytes / SECONDS };
}

export async function run(flags: string[]): Promise<{ title: string; markdown: string; dry?: boolean }> {
  const frames = Array.from({ length: FRAMES }, (_, k) => musicFrame(k));
  const silence = Array.from({ length: FRAMES }, () => Buffer.alloc(FRAME_BYTES));
  // Warm-up: the WebAssembly compile and the first ffmpeg start are not what is measured.
  await benchOpusscript(frames.slice(0, 50));
  const wasm = await benchOpusscript(frames);
  const ffmpeg = await benchFfmpeg(frames);
  const sound = await benchHub(frames);
  const quiet = await benchHub(silence);
  const f1 = (n: number) => n.toFixed(1);
  const f2 = (n: number) => n.toFixed(2);
  const lines = [
    machineLine(),
    '',
    'Opus 48 kHz stereo, 20 ms frames, 96 kb/s, 30 s of a music-like signal:',
    '',
    '| encoder | CPU ms per s of audio | kb/s | latency p50 | latency p95 |',
    '| --- | --- | --- | --- | --- |',
    `| opusscript (WebAssembly, in process) | ${f1(wasm.cpuMsPerAudioSecond)} | ${f1(wasm.kbps)} | ${f2(wasm.latencyP50Ms)} ms | ${f2(wasm.latencyP95Ms)} ms |`,
    `| ffmpeg libopus (child, Ogg pages) | ${f1(ffmpeg.cpuMsPerAudioSecond)} | ${f1(ffmpeg.kbps)} | ${f2(ffmpeg.latencyP50Ms)} ms | ${f2(ffmpeg.latencyP95Ms)} ms |`,
    '',
    "Latency: write of a frame (fed in real time, one every 20 ms) → its packet back. ffmpeg's CPU",
    'includes its start-up; the WebAssembly compile is left out (one warm-up run).',
    '',
    "The helper's pipeline (AudioHub + opusscript), per second of audio:",
    '',
    '| input | CPU ms | bytes/s sent (RTP payload + 12-byte header) |',
    '| --- | --- | --- |',
    `| sound | ${f1(sound.cpuMsPerAudioSecond)} | ${Math.round(sound.bytesPerSecond)} |`,
    `| digital silence | ${f2(quiet.cpuMsPerAudioSecond)} | ${Math.round(quiet.bytesPerSecond)} |`,
  ];
  if (flags.includes('--latency')) {
    const { buildViewer } = await import('../scripts/build-viewer.js');
    await buildViewer();
    const { measureAudioLatency } = await import('../test/fixtures/audio-probe.js');
    const r = await measureAudioLatency({ bursts: 20 });
    lines.push(
      '',
      `Capture → played latency (tone bursts from the session's sink to their onset in the page, ${r.latencies.length} of ${r.bursts}):`,
      `median ${f1(r.median)} ms, min ${f1(r.min)} ms, max ${f1(r.max)} ms (target < 150 ms median); Chromium's jitter buffer ${f1(r.jitterBufferMs)} ms, playout ${f1(r.playoutMs)} ms on average.`,
    );
    if (r.skew)
      lines.push(
        '',
        `A/V skew (a tone in the session's sink and a red screen, ${r.skew.skews.length} of ${r.skew.events} events seen both in the page): ` +
          `the sound's latency minus the picture's, median ${f1(r.skew.median)} ms (positive: sound later), min ${f1(Math.min(...r.skew.skews))}, max ${f1(Math.max(...r.skew.skews))}; ` +
          `the picture's own latency (xsetroot → frame shown) median ${f1(r.skew.videoMedian)} ms.`,
      );
    if (r.parecCpuMsPerSecond)
      lines.push(
        '',
        `The helper's parec (capture process), CPU per second: ${f1(r.parecCpuMsPerSecond.idle)} ms with the sink silent, ${f1(r.parecCpuMsPerSecond.playing)} ms while a tone plays (10 s each; /proc ticks of 10 ms).`,
      );
  }
  return {
    title: 'Audio: Opus encoding and the audio pipeline',
    markdown: lines.join('\n'),
    dry: flags.includes('--dry'),
  };
}
