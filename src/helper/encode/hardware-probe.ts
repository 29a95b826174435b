/**
 * Which hardware H.264 encoders an ffmpeg binary can really use. `ffmpeg -encoders` lists every
 * encoder the build was compiled with (Debian's lists NVENC and QSV on machines with neither GPU), so a
 * listed encoder is only a candidate: each one is confirmed by encoding one small frame from stdin.
 *
 * Preference order: NVENC (NVIDIA), QSV (Intel), AMF (AMD), then Media Foundation (`h264_mf`, Windows'
 * own, which may itself pick a GPU or a software MFT). libx264 is the answer when none works.
 */
import { spawn } from 'node:child_process';

export const HARDWARE_H264_ENCODERS = ['h264_nvenc', 'h264_qsv', 'h264_amf', 'h264_mf'] as const;
export type HardwareH264Encoder = (typeof HARDWARE_H264_ENCODERS)[number];

/** The video encoders in an `ffmpeg -encoders` listing (lines after the ` ------` rule, type `V`). */
export function parseEncoderList(stdout: string): string[] {
  const lines = stdout.split(/\r?\n/);
  const rule = lines.findIndex((l) => /^\s*-{3,}\s*$/.test(l));
  const names: string[] = [];
  for (const line of lines.slice(rule + 1)) {
    const m = /^\s*([VAS][A-Z.]{5})\s+(\S+)/.exec(line);
    if (m && m[1]?.startsWith('V') && m[2]) names.push(m[2]);
  }
  return names;
}

/** The arguments of a one-frame trial: a 256×256 BGRA frame on stdin, encoded and thrown away. */
export function trialEncodeArgs(codec: string): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'bgra',
    '-s',
    '256x256',
    '-i',
    'pipe:0',
    '-frames:v',
    '1',
    '-c:v',
    codec,
    '-f',
    'null',
    '-',
  ];
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a binary with `stdin` as its input; never rejects (a spawn error is code null). */
export type Runner = (
  binary: string,
  args: string[],
  stdin: Buffer | undefined,
  timeoutMs: number,
) => Promise<RunResult>;

export const runProcess: Runner = (binary, args, stdin, timeoutMs) =>
  new Promise((resolve) => {
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill(), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined); // ffmpeg may exit before reading it all
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: stderr || err.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });

export interface HardwareProbe {
  /** Hardware H.264 encoders the build lists. */
  listed: HardwareH264Encoder[];
  /** Those that encoded a trial frame, in preference order. */
  working: HardwareH264Encoder[];
  /** Why each listed one failed its trial (ffmpeg's last stderr line). */
  failures: Partial<Record<HardwareH264Encoder, string>>;
}

const cache = new Map<string, Promise<HardwareProbe>>();

/** Probes `binary` once per process (trials run one after another: a GPU session is a scarce thing). */
export function probeHardwareEncoders(binary: string, run: Runner = runProcess): Promise<HardwareProbe> {
  let result = run === runProcess ? cache.get(binary) : undefined;
  if (!result) {
    result = probe(binary, run);
    if (run === runProcess) cache.set(binary, result);
  }
  return result;
}

async function probe(binary: string, run: Runner): Promise<HardwareProbe> {
  const list = await run(binary, ['-hide_banner', '-encoders'], undefined, 10_000);
  const available = new Set(list.code === 0 ? parseEncoderList(list.stdout) : []);
  const listed = HARDWARE_H264_ENCODERS.filter((e) => available.has(e));
  const working: HardwareH264Encoder[] = [];
  const failures: HardwareProbe['failures'] = {};
  const frame = Buffer.alloc(256 * 256 * 4);
  for (const codec of listed) {
    const r = await run(binary, trialEncodeArgs(codec), frame, 15_000);
    if (r.code === 0) working.push(codec);
    else failures[codec] = lastLine(r.stderr) || `exit code ${String(r.code)}`;
  }
  return { listed, working, failures };
}

function lastLine(text: string): string {
  const lines = text.trim().split(/\r?\n/);
  return lines[lines.length - 1]?.trim() ?? '';
}

/** The codec for `ffmpegCodec: 'auto'`: the first hardware encoder that works, else libx264. */
export async function pickFfmpegH264Codec(binary: string, run: Runner = runProcess): Promise<string> {
  const { working } = await probeHardwareEncoders(binary, run);
  return working[0] ?? 'libx264';
}
