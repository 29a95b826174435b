/**
 * FileAccess with this process's own identity: used in-process when the helper runs as the session
 * user, and inside the files worker, which the helper starts as the user when it is root.
 */
import { constants } from 'node:fs';
import { mkdir, open, opendir, readFile, statfs, unlink, lstat, type FileHandle } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import {
  FILE_CHUNK_BYTES,
  MAX_LISTING_ENTRIES,
  MAX_NAME_BYTES,
  type FileEntry,
} from '../../protocol/files.js';
import {
  FREE_SPACE_MARGIN_BYTES,
  FileAccessError,
  toFileAccessError,
  type FileAccess,
  type FilesPolicy,
  type FileSink,
  type FileSource,
} from './file-access.js';
import { checkFileName, MAX_NAME_ATTEMPTS, numberedName } from './file-name.js';
import { resolveInRoot } from './path-confine.js';

/** 0 where the platform has no such flag (Windows): there the realpath check alone confines. */
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;

export interface LocalFileAccessOptions extends FilesPolicy {
  /** The session user's home. */
  home: string;
}

/** The folder uploads land in: the policy's, else the XDG download dir (Linux), else `~/Downloads`. */
export async function uploadDirFor(home: string, configured: string | undefined): Promise<string> {
  if (configured) return isAbsolute(configured) ? configured : join(home, configured);
  if (process.platform === 'linux') {
    // user-dirs.dirs is read with the user's identity (this runs as the user): `XDG_DOWNLOAD_DIR="$HOME/Inbox"`.
    const text = await readFile(join(home, '.config', 'user-dirs.dirs'), 'utf8').catch(() => '');
    const m = /^XDG_DOWNLOAD_DIR="([^"\n]*)"/m.exec(text);
    if (m?.[1]) {
      const dir = m[1].replace(/^\$HOME(?=\/|$)/, home);
      if (isAbsolute(dir) && dir !== home) return dir;
    }
  }
  return join(home, 'Downloads');
}

export function rootPaths(home: string, roots: string[] | undefined): string[] {
  return (roots?.length ? roots : [home]).map((r) => (isAbsolute(r) ? r : join(home, r)));
}

export function rootLabels(home: string, roots: string[] | undefined): string[] {
  return rootPaths(home, roots).map((r) => (r === home ? 'Home' : basename(r) || r).slice(0, 64));
}

export class LocalFileAccess implements FileAccess {
  readonly roots: readonly string[];
  private readonly rootDirs: string[];

  constructor(private readonly opts: LocalFileAccessOptions) {
    this.rootDirs = rootPaths(opts.home, opts.roots);
    this.roots = rootLabels(opts.home, opts.roots);
  }

  async createUpload(name: string, size: number): Promise<FileSink> {
    const checked = checkFileName(name);
    if (size > this.opts.maxUploadBytes) {
      throw new FileAccessError('too_large', `larger than the ${this.opts.maxUploadBytes} bytes allowed`);
    }
    const dir = await uploadDirFor(this.opts.home, this.opts.uploadDir);
    try {
      await mkdir(dir, { recursive: true, mode: 0o755 });
    } catch (err) {
      throw toFileAccessError(err, 'cannot create the uploads folder');
    }
    let free: number;
    try {
      const s = await statfs(dir);
      // bavail: the blocks an unprivileged user may still use (root's reserve excluded).
      free = s.bavail * s.bsize;
    } catch (err) {
      throw toFileAccessError(err, 'cannot read the free space');
    }
    if (free < size + FREE_SPACE_MARGIN_BYTES) {
      throw new FileAccessError('no_space', `${size} bytes do not fit: ${free} bytes free`);
    }
    for (let n = 0; n < MAX_NAME_ATTEMPTS; n++) {
      const candidate = numberedName(checked, n);
      const path = join(dir, candidate);
      let handle: FileHandle;
      try {
        // O_EXCL: never overwrite, never follow a link planted under that name.
        handle = await open(
          path,
          constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW,
          0o644,
        );
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw toFileAccessError(err, 'cannot create the file');
      }
      return handleSink(handle, path, candidate);
    }
    throw new FileAccessError('busy', `${MAX_NAME_ATTEMPTS} files with this name exist already`);
  }

  private root(index: number): string {
    const dir = this.rootDirs[index];
    if (dir === undefined) throw new FileAccessError('not_found', `there is no root ${index}`);
    return dir;
  }

  async list(root: number, path: readonly string[]): Promise<{ entries: FileEntry[]; truncated: boolean }> {
    const dir = await resolveInRoot(this.root(root), path);
    const entries: FileEntry[] = [];
    let truncated = false;
    try {
      const d = await opendir(dir);
      for await (const e of d) {
        // Names the protocol cannot carry back in a `get` (not UTF-8, a backslash, too long) are left out.
        if (e.name.includes('\uFFFD') || /[\\]/.test(e.name) || Buffer.byteLength(e.name) > MAX_NAME_BYTES)
          continue;
        if (entries.length >= MAX_LISTING_ENTRIES) {
          truncated = true;
          break;
        }
        const st = await lstat(join(dir, e.name)).catch(() => undefined);
        if (!st) continue;
        const kind = st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
        entries.push({
          name: e.name,
          kind,
          size: kind === 'file' ? st.size : 0,
          mtime: Math.trunc(st.mtimeMs),
        });
      }
    } catch (err) {
      throw toFileAccessError(err, 'cannot list the folder');
    }
    entries.sort(
      (a, b) => Number(b.kind === 'dir') - Number(a.kind === 'dir') || a.name.localeCompare(b.name),
    );
    return { entries, truncated };
  }

  async openDownload(root: number, path: readonly string[]): Promise<FileSource> {
    if (path.length === 0) throw new FileAccessError('not_a_file', 'a root is a folder');
    const real = await resolveInRoot(this.root(root), path);
    let handle: FileHandle;
    try {
      handle = await open(real, constants.O_RDONLY | O_NOFOLLOW);
    } catch (err) {
      throw toFileAccessError(err, 'cannot open the file');
    }
    const st = await handle.stat();
    if (!st.isFile()) {
      await handle.close();
      throw new FileAccessError('not_a_file', 'only regular files can be downloaded');
    }
    return handleSource(handle, path[path.length - 1]!, st.size);
  }
}

function handleSink(handle: FileHandle, path: string, name: string): FileSink {
  let state: 'open' | 'finished' | 'aborted' = 'open';
  return {
    name,
    async write(chunk) {
      if (state !== 'open') throw new FileAccessError('cancelled', 'the upload is closed');
      let off = 0;
      while (off < chunk.byteLength) {
        const { bytesWritten } = await handle.write(chunk, off, chunk.byteLength - off);
        off += bytesWritten;
      }
    },
    async finish() {
      if (state !== 'open') throw new FileAccessError('cancelled', 'the upload is closed');
      state = 'finished';
      await handle.datasync();
      await handle.close();
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      await handle.close().catch(() => undefined);
      await unlink(path).catch(() => undefined);
    },
  };
}

export function handleSource(handle: FileHandle, name: string, size: number): FileSource {
  let closed = false;
  return {
    name,
    size,
    async *chunks() {
      for (;;) {
        const buf = Buffer.allocUnsafe(FILE_CHUNK_BYTES);
        const { bytesRead } = await handle.read(buf, 0, FILE_CHUNK_BYTES, null);
        if (bytesRead === 0) return;
        yield buf.subarray(0, bytesRead);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await handle.close().catch(() => undefined);
    },
  };
}
