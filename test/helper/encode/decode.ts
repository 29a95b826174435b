/**
 * Test helper: decodes an Annex-B H.264 stream with the ffmpeg CLI and returns the BGRA frames.
 */
import { spawn } from 'node:child_process';

export async function decodeH264(stream: Buffer, width: number, height: number): Promise<Uint8Array[]> {
  const child = spawn('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'h264',
    '-i',
    'pipe:0',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'bgra',
    'pipe:1',
  ]);
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => chunks.push(d));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(stream);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`ffmpeg decode failed (${code}): ${stderr}`);
  const all = Buffer.concat(chunks);
  const size = width * height * 4;
  const frames: Uint8Array[] = [];
  for (let p = 0; p + size <= all.length; p += size) frames.push(all.subarray(p, p + size));
  return frames;
}
