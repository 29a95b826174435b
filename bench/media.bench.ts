/**
 * Capture and H.264 encode, per encoder implementation, at 1280×720 and 1920×1080 under Xvfb:
 * capture→encoded latency, sustained fps with full-screen motion, helper CPU with motion and with a
 * static screen, bytes/s, and PLI→keyframe time. The motion comes from a separate painter process
 * (test/helper/capture/x11-painter.ts) so its CPU is not counted as the helper's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { startCaptureLoop } from '../src/helper/capture/capture-loop.js';
import { createCapturer } from '../src/helper/capture/index.js';
import { monotonicUs } from '../src/helper/capture/clock.js';
import { DEFAULT_ENCODER_KIND, type Encoder, type EncoderKind } from '../src/helper/encode/encoder.js';
import { createEncoder } from '../src/helper/encode/index.js';
import type { FfmpegEncoder } from '../src/helper/encode/ffmpeg-encoder.js';
import { startXvfb, type XvfbHandle } from '../test/fixtures/xvfb.js';
import { STATIC_REFRESH_MS } from '../src/helper/pipeline/display-pipeline.js';
import { loadWebCodecs } from '../src/helper/encode/webcodecs-encoder.js';
import { machineLine, percentile } from './report.js';

const SIZES = [
  { w: 1280, h: 720, bitrate: 4_000_000 },
  { w: 1920, h: 1080, bitrate: 8_000_000 },
];
// webcodecs is an optional package (see src/helper/encode/webcodecs-encoder.ts): measured when installed.
const KINDS: EncoderKind[] = (await loadWebCodecs().then(
  () => true,
  () => false,
))
  ? ['webcodecs', 'ffmpeg']
  : ['ffmpeg'];
const CAPTURE_FPS = 60;
const MOTION_S = 5;
const STATIC_S = 9;
const PLI_EVERY_MS = 1000;
const CLOCK_TICKS = 100; // USER_HZ on Linux

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user + system) from a /proc stat line: the process's own, or (cumulative) of its reaped children. */
function procCpuSeconds(pid: number | 'self', children = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the ")": field 3 is index 0, so utime (14) is 11, stime 12, cutime 13, cstime 14.
    return children
      ? (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS
      : (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0; // exited between listing and reading: its time is in the parent's cutime once reaped
  }
}

/**
 * CPU of this process plus the encoder's ffmpeg children, including children that exited during the
 * sample (an ffmpeg swapped out on a keyframe request): their time lands in our cutime/cstime when
 * reaped, and it moves there from the live-children sum, so deltas stay right.
 */
class CpuMeter {
  private readonly start: number;
  private readonly startWall = performance.now();
  constructor(private readonly encoder: Encoder) {
    this.start = this.total();
  }
  private total(): number {
    const own = process.cpuUsage();
    const pids = this.encoder.kind === 'ffmpeg' ? (this.encoder as FfmpegEncoder).pids() : [];
    return (
      (own.user + own.system) / 1e6 +
      procCpuSeconds('self', true) +
      pids.reduce((sum, pid) => sum + procCpuSeconds(pid), 0)
    );
  }
  /** Percent of one core since construction. */
  percent(): number {
    return (100 * (this.total() - this.start)) / ((performance.now() - this.startWall) / 1000);
  }
}

async function startPainter(xvfb: XvfbHandle, fps: number): Promise<ChildProcess> {
  // node itself (not npx) so that SIGTERM reaches the painter and not a wrapper.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/helper/capture/x11-painter.ts', xvfb.display, String(fps)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: xvfb.env,
    },
  );
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    lines.once('line', () => resolve());
    child.once('exit', (code) => reject(new Error(`painter exited with ${code}`)));
  });
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

interface Row {
  size: string;
  kind: EncoderKind;
  latMedian: number;
  latP95: number;
  fps: number;
  cpuMotion: number;
  cpuStatic: number;
  staticFrames: number;
  bytesPerS: number;
  pliMedian: number;
  pliMax: number;
}

async function measure(xvfb: XvfbHandle, size: (typeof SIZES)[number], kind: EncoderKind): Promise<Row> {
  const capturer = await createCapturer({ kind: 'x11', display: xvfb.display });
  const source = capturer.openFrameSource(0);
  const encoder = await createEncoder(
    { width: size.w, height: size.h, fps: CAPTURE_FPS, bitrate: size.bitrate },
    { kind },
  );
  const latencies: number[] = [];
  const pli: number[] = [];
  let pliAt: number | undefined;
  let bytes = 0;
  let frames = 0;
  const loop = startCaptureLoop(source, {
    fps: CAPTURE_FPS,
    refreshIntervalMs: STATIC_REFRESH_MS, // as the helper's pipeline does
    onFrame: async (frame) => {
      const out = await encoder.encode(frame);
      latencies.push((out.timestampUs - out.captureTimestampUs) / 1000);
      bytes += out.data.length;
      frames += 1;
      if (out.keyframe && pliAt !== undefined) {
        pli.push((out.timestampUs - pliAt) / 1000);
        pliAt = undefined;
      }
    },
    onError: (err) => console.error('bench: frame failed', err),
  });

  // Warm up (encoder start, first keyframe), then measure motion.
  const painter = await startPainter(xvfb, CAPTURE_FPS);
  await sleep(1000);
  latencies.length = 0;
  frames = 0;
  bytes = 0;
  const cpu = new CpuMeter(encoder);
  const t0 = performance.now();
  const pliTimer = setInterval(() => {
    if (pliAt !== undefined) return;
    pliAt = monotonicUs();
    encoder.requestKeyframe();
  }, PLI_EVERY_MS);
  await sleep(MOTION_S * 1000);
  clearInterval(pliTimer);
  const motionSeconds = (performance.now() - t0) / 1000;
  const cpuMotion = cpu.percent();
  const motionFrames = frames;
  const motionBytes = bytes;
  const sorted = [...latencies].sort((a, b) => a - b);
  const pliSorted = [...pli].sort((a, b) => a - b);

  await stopProcess(painter);
  await sleep(500);
  frames = 0;
  const staticCpu = new CpuMeter(encoder);
  await sleep(STATIC_S * 1000);
  const cpuStatic = staticCpu.percent();
  const staticFrames = frames;

  await loop.stop();
  await encoder.close();
  source.close();
  capturer.close();
  return {
    size: `${size.w}×${size.h}`,
    kind,
    latMedian: percentile(sorted, 50),
    latP95: percentile(sorted, 95),
    fps: motionFrames / motionSeconds,
    cpuMotion,
    cpuStatic,
    staticFrames,
    bytesPerS: motionBytes / motionSeconds,
    pliMedian: percentile(pliSorted, 50),
    pliMax: pliSorted.at(-1) ?? Number.NaN,
  };
}

export async function run(): Promise<{ title: string; markdown: string }> {
  const rows: Row[] = [];
  for (const size of SIZES) {
    const xvfb = await startXvfb({ screens: [{ w: size.w, h: size.h }] });
    try {
      for (const kind of KINDS) {
        console.log(`media: ${size.w}×${size.h} ${kind}…`);
        rows.push(await measure(xvfb, size, kind));
      }
    } finally {
      await xvfb.stop();
    }
  }
  const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '–');
  const table = [
    '| size | encoder | capture→encoded median / p95 (ms) | fps (motion, target 60) | CPU % motion | CPU % static | frames encoded while static | kB/s | PLI→keyframe median / max (ms) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.size} | ${r.kind} | ${f1(r.latMedian)} / ${f1(r.latP95)} | ${f1(r.fps)} | ${f1(r.cpuMotion)} | ${f1(r.cpuStatic)} | ${r.staticFrames} in ${STATIC_S} s | ${f1(r.bytesPerS / 1000)} | ${f1(r.pliMedian)} / ${f1(r.pliMax)} |`,
    ),
  ];
  const at720 = (k: EncoderKind): Row | undefined => rows.find((r) => r.kind === k && r.size === '1280×720');
  const best = KINDS.filter((k) => (at720(k)?.cpuStatic ?? 100) < 2).sort(
    (a, b) => (at720(a)?.latMedian ?? Infinity) - (at720(b)?.latMedian ?? Infinity),
  )[0];
  const markdown = [
    machineLine(),
    '',
    `Xvfb screen per size; a separate painter process redraws the whole screen ${CAPTURE_FPS} times a second ` +
      `(stamped synthetic pattern through MIT-SHM); the helper pipeline captures at ${CAPTURE_FPS} fps ` +
      `(MIT-SHM + DAMAGE) and encodes with software x264 (1280×720 at 4 Mb/s, 1920×1080 at 8 Mb/s). ` +
      `Motion ${MOTION_S} s with a keyframe request every ${PLI_EVERY_MS} ms, then static ${STATIC_S} s ` +
      `(one refresh frame every ${STATIC_REFRESH_MS / 1000} s). CPU % is of one core: this process (capture + encode) plus its ffmpeg ` +
      'children; the X server and the painter are not counted.',
    '',
    ...table,
    '',
    `Lowest 720p capture→encoded median among encoders under 2 % CPU when static: **${best ?? 'none'}**. ` +
      `The default (\`DEFAULT_ENCODER_KIND\`) is **${DEFAULT_ENCODER_KIND}**.`,
  ].join('\n');
  return { title: 'Capture and H.264 encode (media)', markdown };
}
