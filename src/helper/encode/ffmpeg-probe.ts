/**
 * Checks once per binary and codec that ffmpeg has the H.264 encoder asked for, so a missing
 * encoder is a clear error at start and not a dead child process at the first frame.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { EncoderError } from './encoder.js';
import { errorMessage } from '../../errors/error-text.js';

const run = promisify(execFile);
const checked = new Map<string, Promise<void>>();

export function checkFfmpegEncoder(binary: string, codec: string): Promise<void> {
  const key = `${binary}\0${codec}`;
  let result = checked.get(key);
  if (!result) {
    result = (async () => {
      let stdout: string;
      try {
        ({ stdout } = await run(binary, ['-hide_banner', '-encoders'], { timeout: 10_000 }));
      } catch (err) {
        throw new EncoderError('unavailable', `cannot run ${binary} -encoders: ${errorMessage(err)}`, {
          cause: err,
        });
      }
      const names = stdout.split('\n').map((l) => l.trim().split(/\s+/)[1]);
      if (!names.includes(codec))
        throw new EncoderError('unavailable', `${binary} has no encoder "${codec}"`);
    })();
    checked.set(key, result);
    result.catch(() => checked.delete(key));
  }
  return result;
}
