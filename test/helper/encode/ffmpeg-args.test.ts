import { describe, expect, it } from 'vitest';
import { VBV_SECONDS, ffmpegArgs } from '../../../src/helper/encode/ffmpeg-process.js';

const argAfter = (args: string[], flag: string): string | undefined => args[args.indexOf(flag) + 1];

describe('ffmpegArgs rate control', () => {
  it('sizes the VBV to 0.2 s of the bitrate, so a keyframe fits a ~250 ms bottleneck queue', () => {
    expect(VBV_SECONDS).toBe(0.2);
    for (const bitrate of [300_000, 1_000_000, 3_870_000]) {
      const args = ffmpegArgs({ width: 1280, height: 720, fps: 60, bitrate }, 'libx264', 'BGRA');
      expect(argAfter(args, '-b:v')).toBe(String(bitrate));
      expect(argAfter(args, '-maxrate')).toBe(String(bitrate));
      expect(argAfter(args, '-bufsize')).toBe(String(Math.round(bitrate * 0.2)));
    }
  });
});
