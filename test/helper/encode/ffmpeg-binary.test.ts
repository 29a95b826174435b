import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEncoder } from '../../../src/helper/encode/index.js';
import { FfmpegNotFoundError, findFfmpeg } from '../../../src/helper/encode/ffmpeg-binary.js';

const dir = mkdtempSync(path.join(tmpdir(), 'porthole-ffmpeg-bin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('finding ffmpeg', () => {
  it('uses PORTHOLE_FFMPEG when it names an executable', () => {
    const fake = path.join(dir, 'my-ffmpeg');
    writeFileSync(fake, '#!/bin/sh\n', { mode: 0o755 });
    expect(findFfmpeg({ env: { PORTHOLE_FFMPEG: fake, PATH: '/usr/bin' } })).toBe(fake);
  });

  it('refuses a PORTHOLE_FFMPEG that does not exist, naming it, instead of taking another ffmpeg', () => {
    expect(() => findFfmpeg({ env: { PORTHOLE_FFMPEG: '/nonexistent', PATH: '' } })).toThrow(
      /no ffmpeg binary found; tried: PORTHOLE_FFMPEG=\/nonexistent \(not an executable file\)/,
    );
  });

  it('falls back to ffmpeg on PATH', () => {
    expect(findFfmpeg({ env: { PATH: `${dir}:/usr/bin` } })).toBe('/usr/bin/ffmpeg');
  });

  it('names every place it looked when there is no ffmpeg anywhere', () => {
    let error: unknown;
    try {
      findFfmpeg({ env: { PATH: '' } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FfmpegNotFoundError);
    expect((error as Error).message).toMatch(/ffmpeg-static .*; ffmpeg on PATH \(PATH is empty\)/);
  });

  it('makes createEncoder fail with that error for the ffmpeg kind', async () => {
    const saved = { ffmpeg: process.env.PORTHOLE_FFMPEG, path: process.env.PATH };
    process.env.PORTHOLE_FFMPEG = '/nonexistent';
    process.env.PATH = '';
    try {
      await expect(
        createEncoder({ width: 320, height: 240, fps: 30, bitrate: 1_000_000 }, { kind: 'ffmpeg' }),
      ).rejects.toThrow(/PORTHOLE_FFMPEG=\/nonexistent/);
    } finally {
      process.env.PORTHOLE_FFMPEG = saved.ffmpeg;
      if (saved.ffmpeg === undefined) delete process.env.PORTHOLE_FFMPEG;
      process.env.PATH = saved.path;
    }
  });

  it('names the binary and the codec when ffmpeg lacks the encoder asked for', async () => {
    await expect(
      createEncoder(
        { width: 320, height: 240, fps: 30, bitrate: 1_000_000 },
        { kind: 'ffmpeg', ffmpegCodec: 'h264_nope' },
      ),
    ).rejects.toThrow(/ffmpeg has no encoder "h264_nope"/);
  });
});
