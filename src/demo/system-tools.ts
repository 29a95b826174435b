import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Debian/Ubuntu package that provides each program the demo starts. */
export const PACKAGE_OF: Record<string, string> = {
  Xvfb: 'xvfb',
  xterm: 'xterm',
  xsetroot: 'x11-xserver-utils',
  ffmpeg: 'ffmpeg',
  xclip: 'xclip',
};

export function which(program: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Throws one error naming every missing program and the package to install for it. */
export function requirePrograms(programs: string[]): void {
  const missing = programs.filter((p) => !which(p) && !(p === 'ffmpeg' && process.env.PORTHOLE_FFMPEG));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((p) => PACKAGE_OF[p] ?? p))];
  throw new Error(
    `missing ${missing.join(', ')}: install with \`sudo apt-get install ${pkgs.join(' ')}\`` +
      (missing.includes('ffmpeg') ? ' (or set PORTHOLE_FFMPEG to your own ffmpeg)' : ''),
  );
}
