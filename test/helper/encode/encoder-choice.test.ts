import { describe, expect, test } from 'vitest';
import type { Encoder, EncoderKind } from '../../../src/helper/encode/encoder.js';
import { EncoderError } from '../../../src/helper/encode/encoder.js';
import { autoOrder, chooseEncoder, resetEncoderChoiceLog } from '../../../src/helper/encode/index.js';

const CONFIG = { width: 64, height: 32, fps: 30, bitrate: 1_000_000 };

function stub(kind: EncoderKind, description: string): Encoder {
  return {
    kind,
    description,
    encode: () => Promise.reject(new Error('unused')),
    requestKeyframe: () => undefined,
    setBitrate: () => undefined,
    setFps: () => undefined,
    close: () => Promise.resolve(),
  };
}

function recorder(): {
  lines: { fields: object; msg: string }[];
  info(fields: object, msg: string): void;
  warn(): void;
} {
  const lines: { fields: object; msg: string }[] = [];
  return { lines, info: (fields, msg) => lines.push({ fields, msg }), warn: () => undefined };
}

describe('--encoder auto', () => {
  test('on Windows tries Media Foundation, then ffmpeg; elsewhere ffmpeg', () => {
    expect(autoOrder('win32')).toEqual(['mf', 'ffmpeg']);
    expect(autoOrder('linux')).toEqual(['ffmpeg']);
  });

  test('moves on from an unavailable encoder, and logs the pick with what was skipped once per process', async () => {
    resetEncoderChoiceLog();
    const log = recorder();
    const tried: EncoderKind[] = [];
    const create = (kind: EncoderKind): Promise<Encoder> => {
      tried.push(kind);
      return kind === 'mf'
        ? Promise.reject(new EncoderError('unavailable', 'no Media Foundation H.264 encoder works here'))
        : Promise.resolve(stub(kind, 'libx264 in ffmpeg'));
    };
    const a = await chooseEncoder(CONFIG, { log }, { platform: 'win32', create });
    const b = await chooseEncoder(CONFIG, { log }, { platform: 'win32', create });
    expect([a.kind, b.kind, tried]).toEqual(['ffmpeg', 'ffmpeg', ['mf', 'ffmpeg', 'mf', 'ffmpeg']]);
    expect(log.lines).toEqual([
      {
        msg: 'encoder chosen (--encoder auto)',
        fields: {
          encoder: 'ffmpeg',
          description: 'libx264 in ffmpeg',
          skipped: ['mf: no Media Foundation H.264 encoder works here'],
        },
      },
    ]);
  });

  test('takes the MF encoder when it starts, and logs again when the pick changes', async () => {
    resetEncoderChoiceLog();
    const log = recorder();
    await chooseEncoder(
      CONFIG,
      { log },
      { platform: 'win32', create: (k) => Promise.resolve(stub(k, 'HW MFT')) },
    );
    await chooseEncoder(
      CONFIG,
      { log },
      { platform: 'linux', create: (k) => Promise.resolve(stub(k, 'libx264')) },
    );
    expect(log.lines.map((l) => l.fields)).toEqual([
      { encoder: 'mf', description: 'HW MFT' },
      { encoder: 'ffmpeg', description: 'libx264' },
    ]);
  });

  test('a failure other than unavailable is not hidden by the fallback; none available names each', async () => {
    const failed = new EncoderError('failed', 'the MFT crashed');
    await expect(
      chooseEncoder(CONFIG, {}, { platform: 'win32', create: () => Promise.reject(failed) }),
    ).rejects.toBe(failed);
    await expect(
      chooseEncoder(
        CONFIG,
        {},
        {
          platform: 'win32',
          create: (k) => Promise.reject(new EncoderError('unavailable', `no ${k}`)),
        },
      ),
    ).rejects.toThrow(/no H\.264 encoder can start here \(mf: no mf; ffmpeg: no ffmpeg\)/);
  });
});
