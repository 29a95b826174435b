import { readdir, readFile } from 'node:fs/promises';
import { basename } from 'node:path';

/**
 * The `-auth` file of the X server for `:display`, found by scanning /proc/<pid>/cmdline for an X
 * server (argv[0] named X…: Xorg, Xvfb, Xvnc, Xtigervnc, Xephyr, Xwayland) with `:display` among its
 * arguments. Best effort: undefined when no such process is visible or it was started without
 * `-auth`. Reading other users' cmdline needs no privilege on a default /proc mount; with
 * `hidepid=2` only root (the service) sees them.
 */
export async function findXServerAuthFile(display: number, procDir = '/proc'): Promise<string | undefined> {
  const wanted = `:${display}`;
  let entries: string[];
  try {
    entries = await readdir(procDir);
  } catch {
    return undefined;
  }
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    let argv: string[];
    try {
      argv = (await readFile(`${procDir}/${pid}/cmdline`, 'utf8')).split('\0');
    } catch {
      continue; // exited while we looked, or hidden from us
    }
    if (!isXServer(argv) || !argv.includes(wanted)) continue;
    return authArgument(argv);
  }
  return undefined;
}

function isXServer(argv: readonly string[]): boolean {
  const name = basename(argv[0] ?? '');
  return /^X[A-Za-z]*$/.test(name);
}

/** The value after `-auth`, if any. Exported for tests. */
export function authArgument(argv: readonly string[]): string | undefined {
  const i = argv.indexOf('-auth');
  const value = i >= 0 ? argv[i + 1] : undefined;
  return value !== undefined && value !== '' ? value : undefined;
}
