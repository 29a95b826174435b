/**
 * Finds the ffmpeg binary: `PORTHOLE_FFMPEG` (or the path the config gives), else the `ffmpeg-static`
 * package's binary when that package is installed, else `ffmpeg` on PATH. An explicit path that is
 * not an executable file is an error of its own, never silently replaced by another ffmpeg.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { EncoderError } from './encoder.js';

/** No ffmpeg to run (code `unavailable`); `tried` lists where it was looked for. */
export class FfmpegNotFoundError extends EncoderError {
  override name = 'FfmpegNotFoundError';
  constructor(readonly tried: string[]) {
    super('unavailable', `no ffmpeg binary found; tried: ${tried.join('; ')}`);
  }
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface FindFfmpegOptions {
  /** A path from the config; wins over everything but the environment override. */
  configured?: string;
  env?: NodeJS.ProcessEnv;
}

export function findFfmpeg(options: FindFfmpegOptions = {}): string {
  const env = options.env ?? process.env;
  const explicit = env.PORTHOLE_FFMPEG ?? options.configured;
  if (explicit) {
    const source = env.PORTHOLE_FFMPEG ? 'PORTHOLE_FFMPEG' : 'config ffmpegPath';
    if (isExecutableFile(explicit)) return explicit;
    throw new FfmpegNotFoundError([`${source}=${explicit} (not an executable file)`]);
  }

  const tried: string[] = [];
  try {
    // ffmpeg-static exports the path of the binary it downloaded at install, or null.
    const require = createRequire(import.meta.url);
    const staticPath = require('ffmpeg-static') as unknown;
    if (typeof staticPath === 'string' && isExecutableFile(staticPath)) return staticPath;
    tried.push(`ffmpeg-static (${String(staticPath)}: no binary)`);
  } catch {
    tried.push('ffmpeg-static (package not installed)');
  }

  const exe = process.platform === 'win32' ? 'ffmpeg.exe' : 'ffmpeg';
  const dirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const dir of dirs) {
    const candidate = path.join(dir, exe);
    if (isExecutableFile(candidate)) return candidate;
  }
  tried.push(
    dirs.length ? `${exe} on PATH (${dirs.join(path.delimiter)})` : `${exe} on PATH (PATH is empty)`,
  );
  throw new FfmpegNotFoundError(tried);
}
