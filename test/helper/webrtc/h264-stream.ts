/** Test helpers: a short real H.264 stream from ffmpeg, split into access units, and decoded back. */
import { spawn } from 'node:child_process';

function run(args: string[], input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    p.on('error', reject);
    p.on('close', (code) =>
      code === 0
        ? resolve(Buffer.concat(out))
        : reject(new Error(`ffmpeg exited ${code}: ${Buffer.concat(err).toString()}`)),
    );
    p.stdin.end(input);
  });
}

/** `seconds` of a 320×240 30 fps test pattern as baseline H.264, Annex B, keyframe only at the start. */
export function encodeTestStream(seconds = 2): Promise<Buffer> {
  return run([
    ...['-f', 'lavfi', '-i', `testsrc=size=320x240:rate=30`, '-t', String(seconds)],
    ...[
      '-pix_fmt',
      'yuv420p',
      '-c:v',
      'libx264',
      '-profile:v',
      'baseline',
      '-tune',
      'zerolatency',
      '-g',
      '600',
    ],
    ...['-bsf:v', 'h264_mp4toannexb', '-f', 'h264', 'pipe:1'],
  ]);
}

/** Offsets of NAL units (just past each start code) in an Annex-B buffer. */
function nalStarts(buf: Buffer): { start: number; prefix: number }[] {
  const out: { start: number; prefix: number }[] = [];
  for (let i = 0; i + 3 <= buf.length; i++) {
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
      const prefix = i > 0 && buf[i - 1] === 0 ? 4 : 3;
      out.push({ start: i + 3, prefix });
      i += 2;
    }
  }
  return out;
}

/**
 * Splits an Annex-B stream into access units: a new one begins at an AUD, SPS, PPS or SEI, or at a
 * slice whose first_mb_in_slice is 0 (its first bit after the NAL header is 1), once the current unit
 * already holds a slice.
 */
export function splitAccessUnits(stream: Buffer): Buffer[] {
  const nals = nalStarts(stream);
  const units: Buffer[] = [];
  let unitStart = -1;
  let hasSlice = false;
  for (const { start, prefix } of nals) {
    const type = stream[start]! & 0x1f;
    const isSlice = type === 1 || type === 5;
    const beginsUnit =
      type === 9 || type === 7 || type === 8 || type === 6 || (isSlice && (stream[start + 1]! & 0x80) !== 0);
    if (beginsUnit && hasSlice) {
      units.push(stream.subarray(unitStart, start - prefix));
      unitStart = -1;
      hasSlice = false;
    }
    if (unitStart < 0) unitStart = start - prefix;
    if (isSlice) hasSlice = true;
  }
  if (unitStart >= 0) units.push(stream.subarray(unitStart));
  return units;
}

/** One MD5 line per decoded frame (ffmpeg's framemd5 muxer), headers dropped. */
export async function decodeFrameHashes(stream: Buffer): Promise<string[]> {
  const out = await run(['-f', 'h264', '-i', 'pipe:0', '-f', 'framemd5', 'pipe:1'], stream);
  return out
    .toString()
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',').pop()!.trim());
}
