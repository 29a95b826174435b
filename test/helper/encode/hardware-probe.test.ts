import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import {
  parseEncoderList,
  pickFfmpegH264Codec,
  probeHardwareEncoders,
  trialEncodeArgs,
  type Runner,
} from '../../../src/helper/encode/hardware-probe.js';

// The shape of `ffmpeg -hide_banner -encoders` (legend, a rule, then one line per encoder).
const LISTING = [
  'Encoders:',
  ' V..... = Video',
  ' A..... = Audio',
  ' ------',
  ' V....D libx264              libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (codec h264)',
  ' V....D h264_amf             AMD AMF H.264 Encoder (codec h264)',
  ' V....D h264_mf              H264 via MediaFoundation (codec h264)',
  ' V....D h264_nvenc           NVIDIA NVENC H.264 encoder (codec h264)',
  ' A....D aac                  AAC (Advanced Audio Coding)',
  ' S..... ass                  ASS (Advanced SubStation Alpha) subtitle',
  '',
].join('\r\n');

function fakeRunner(working: string[]): { run: Runner; calls: string[][] } {
  const calls: string[][] = [];
  const run: Runner = (_binary, args, stdin) => {
    calls.push(args);
    if (args.includes('-encoders')) return Promise.resolve({ code: 0, stdout: LISTING, stderr: '' });
    const codec = args[args.indexOf('-c:v') + 1] ?? '';
    expect(stdin?.length).toBe(256 * 256 * 4);
    return Promise.resolve(
      working.includes(codec)
        ? { code: 0, stdout: '', stderr: '' }
        : { code: 1, stdout: '', stderr: `[${codec}] init failed\nError while opening encoder: No device\n` },
    );
  };
  return { run, calls };
}

describe('hardware encoder probe', () => {
  test('parses video encoder names from the listing (CRLF, audio and subtitle lines skipped)', () => {
    expect(parseEncoderList(LISTING)).toEqual(['libx264', 'h264_amf', 'h264_mf', 'h264_nvenc']);
    expect(parseEncoderList('')).toEqual([]);
  });

  test('the trial encodes one 256×256 BGRA frame from stdin with the codec, to the null muxer', () => {
    const args = trialEncodeArgs('h264_qsv');
    expect(args.join(' ')).toBe(
      '-hide_banner -loglevel error -f rawvideo -pix_fmt bgra -s 256x256 -i pipe:0 -frames:v 1 -c:v h264_qsv -f null -',
    );
  });

  test('listed encoders are tried in preference order; failures keep ffmpeg’s last line', async () => {
    const { run, calls } = fakeRunner(['h264_mf', 'h264_amf']);
    const probe = await probeHardwareEncoders('ffmpeg', run);
    expect(probe).toEqual({
      listed: ['h264_nvenc', 'h264_amf', 'h264_mf'],
      working: ['h264_amf', 'h264_mf'],
      failures: { h264_nvenc: 'Error while opening encoder: No device' },
    });
    expect(calls).toHaveLength(4);
    expect(await pickFfmpegH264Codec('ffmpeg', run)).toBe('h264_amf');
  });

  test('falls back to libx264 when nothing works or ffmpeg cannot run', async () => {
    expect(await pickFfmpegH264Codec('ffmpeg', fakeRunner([]).run)).toBe('libx264');
    const broken: Runner = () => Promise.resolve({ code: null, stdout: '', stderr: 'spawn ENOENT' });
    expect(await probeHardwareEncoders('nope', broken)).toEqual({ listed: [], working: [], failures: {} });
  });

  const hasFfmpeg = (() => {
    try {
      execFileSync('ffmpeg', ['-hide_banner', '-version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  test.runIf(hasFfmpeg)(
    'with the system ffmpeg: what it lists is probed for real, and the pick is usable',
    async () => {
      const probe = await probeHardwareEncoders('ffmpeg');
      for (const e of probe.working) expect(probe.listed).toContain(e);
      for (const e of probe.listed)
        expect(probe.working.includes(e) || probe.failures[e] !== undefined).toBe(true);
      const pick = await pickFfmpegH264Codec('ffmpeg');
      expect(pick).toBe(probe.working[0] ?? 'libx264');
    },
    60_000,
  );
});
