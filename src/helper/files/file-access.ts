/**
 * What the file service asks of the file system, always with the **session user's identity**: a
 * helper that runs as root (`keepRoot`) or SYSTEM must never read or write a file the user could not.
 * index.ts picks the implementation: in-process when the helper already is the user, a worker
 * process started as the user when it is root (user-process-file-access.ts), or impersonation for the
 * open on Windows (design/FILES.md, "Whose identity").
 */
import { PortholeError } from '../../errors/porthole-error.js';
import type { FileEntry, FileErrorCode } from '../../protocol/files.js';

export class FileAccessError extends PortholeError<FileErrorCode> {
  override name = 'FileAccessError';
}

/** One upload being written: a file created exclusively under its final name. */
export interface FileSink {
  /** The name the file was created under (`name (1).ext` when `name.ext` existed). */
  readonly name: string;
  /** Resolves once the bytes are handed to the file (or the writer process) and it can take more. */
  write(chunk: Uint8Array): Promise<void>;
  /** Flushes to disk and closes; the file stays. */
  finish(): Promise<void>;
  /** Closes and removes the partial file. Safe to call at any time, more than once. */
  abort(): Promise<void>;
}

/** One download being read: a regular file opened without following a final symlink. */
export interface FileSource {
  readonly name: string;
  readonly size: number;
  /** Chunks of at most `FILE_CHUNK_BYTES`, in order; ends at end of file. */
  chunks(): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

export interface FileAccess {
  /** Labels of the roots a viewer may browse, by index (`Home`). */
  readonly roots: readonly string[];
  /** Creates an upload in the uploads folder, after checking its free space against `size`. */
  createUpload(name: string, size: number): Promise<FileSink>;
  list(root: number, path: readonly string[]): Promise<{ entries: FileEntry[]; truncated: boolean }>;
  openDownload(root: number, path: readonly string[]): Promise<FileSource>;
}

/** Where uploads land and what may be browsed, as the helper's options give them. */
export interface FilesPolicy {
  /** Absolute, or relative to the user's home (`Downloads`); default: the XDG download dir, else `Downloads`. */
  uploadDir?: string;
  /** Largest upload, bytes. */
  maxUploadBytes: number;
  /** Browsable roots, absolute or relative to home; default: the home alone. */
  roots?: string[];
}

/** 4 GiB: larger than most files people send to a machine they support, small enough to notice a mistake. */
export const DEFAULT_MAX_UPLOAD_BYTES = 4 * 1024 * 1024 * 1024;
/** Free space kept after an upload, so that a transfer never fills the user's disk to the last block. */
export const FREE_SPACE_MARGIN_BYTES = 64 * 1024 * 1024;

/** Maps a Node fs error to the code the viewer is told. */
export function fsErrorCode(err: unknown): FileErrorCode {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 'not_found';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 'denied';
    case 'ELOOP':
      return 'outside_root';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'no_space';
    case 'EISDIR':
      return 'not_a_file';
    default:
      return 'io';
  }
}

export function toFileAccessError(err: unknown, what: string): FileAccessError {
  if (err instanceof FileAccessError) return err;
  const code = fsErrorCode(err);
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  return new FileAccessError(code, `${what}: ${errno ?? 'failed'}`, { cause: err });
}
