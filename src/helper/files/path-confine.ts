/**
 * Confinement of browse and download paths to the allowed roots. The path arrives as components
 * (protocol/files.ts refuses `..`, `.`, separators and NUL), so the only way out of a root is a link:
 * a symlink on Linux, a symlink, junction or other name-surrogate reparse point on Windows. Every
 * link is resolved (`realpath`, which on Windows follows junctions and symlinks too) and the result
 * must still lie inside the root's own resolved path. A link that stays inside is followed.
 *
 * This runs with the user's identity (file-access.ts), so a race that swaps a component for a link
 * after the check can reach only what the user could read anyway; the final open also refuses a
 * link (O_NOFOLLOW) where the platform has the flag.
 */
import { realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { FileAccessError, toFileAccessError } from './file-access.js';

/** Whether `inner` is `outer` or below it (both already resolved). */
export function isInside(outer: string, inner: string): boolean {
  const rel = relative(outer, inner);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * The resolved path of `segments` under `root`, or FileAccessError `outside_root` when a link leads
 * out, `not_found` when it does not exist.
 */
export async function resolveInRoot(root: string, segments: readonly string[]): Promise<string> {
  for (const s of segments) {
    if (!s || s === '.' || s === '..' || /[/\\\0]/.test(s))
      throw new FileAccessError('bad_message', 'a path component is not a plain name');
  }
  let realRoot: string;
  let real: string;
  try {
    realRoot = await realpath(root);
    real = await realpath(join(root, ...segments));
  } catch (err) {
    throw toFileAccessError(err, 'cannot resolve the path');
  }
  if (!isInside(realRoot, real)) {
    throw new FileAccessError('outside_root', 'the path leads out of the allowed folders through a link');
  }
  return real;
}
