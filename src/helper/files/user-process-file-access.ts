/**
 * FileAccess for a helper that runs as root (`keepRoot`): each operation runs in a files worker
 * (files-worker.ts) started with the session user's uid and gid, and the bytes of an upload or a
 * download are streamed straight through that worker's stdin or stdout. Nothing is written, read or
 * listed with root's rights, and the helper never unlinks anything itself (a cancel is SIGTERM to the
 * worker, which removes its partial file as the user).
 *
 * libuv clears the supplementary groups of a child started with `uid`/`gid`: the worker has the
 * user's primary group only, so a file readable only through another group is refused (FILES.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import {
  FILE_CHUNK_BYTES,
  FILE_ERROR_CODES,
  type FileEntry,
  type FileErrorCode,
} from '../../protocol/files.js';
import {
  FileAccessError,
  type FileAccess,
  type FilesPolicy,
  type FileSink,
  type FileSource,
} from './file-access.js';
import { checkFileName } from './file-name.js';
import type { WorkerPolicy, WorkerRequest } from './files-worker.js';
import { rootLabels } from './local-file-access.js';

export interface SessionUser {
  uid: number;
  gid: number;
  home: string;
  name?: string;
}

export interface UserProcessFileAccessOptions extends FilesPolicy {
  user: SessionUser;
  /** argv that starts porthole; `files-worker` is appended (default: this process's node and script). */
  command?: string[];
}

const MAX_REPLY_LINE = 256 * 1024;

export class UserProcessFileAccess implements FileAccess {
  readonly roots: readonly string[];
  private readonly policy: WorkerPolicy;

  constructor(private readonly opts: UserProcessFileAccessOptions) {
    if (opts.user.uid === 0) throw new Error('the files worker is for a non-root session user');
    this.roots = rootLabels(opts.user.home, opts.roots);
    this.policy = {
      home: opts.user.home,
      maxUploadBytes: opts.maxUploadBytes,
      ...(opts.uploadDir ? { uploadDir: opts.uploadDir } : {}),
      ...(opts.roots ? { roots: opts.roots } : {}),
    };
  }

  private start(req: WorkerRequest): { child: ChildProcess; reply: LineReader } {
    const [file, ...args] = this.opts.command ?? [process.execPath, process.argv[1] ?? ''];
    const { user } = this.opts;
    const child = spawn(file!, [...args, 'files-worker'], {
      uid: user.uid,
      gid: user.gid,
      cwd: '/',
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: user.home,
        ...(user.name ? { USER: user.name, LOGNAME: user.name } : {}),
        ...(process.env.LANG ? { LANG: process.env.LANG } : {}),
        ...(process.env.PORTHOLE_FROM_SOURCE
          ? { PORTHOLE_FROM_SOURCE: process.env.PORTHOLE_FROM_SOURCE }
          : {}),
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    child.on('error', () => undefined); // reported through the reply: the stream ends without a line
    child.stdin!.on('error', () => undefined);
    child.stdin!.write(`${JSON.stringify(req)}\n`);
    return { child, reply: new LineReader(child.stdout!) };
  }

  async createUpload(name: string, size: number): Promise<FileSink> {
    checkFileName(name); // refused here already: no process for a name that cannot be stored
    if (size > this.opts.maxUploadBytes)
      throw new FileAccessError('too_large', `larger than the ${this.opts.maxUploadBytes} bytes allowed`);
    const { child, reply } = this.start({ op: 'write', name, size, ...this.policy });
    const opened = await expectOk(reply, child);
    const stdin = child.stdin!;
    let state: 'open' | 'finished' | 'aborted' = 'open';
    const exited = once(child, 'exit').catch(() => undefined);
    return {
      name: String(opened.name),
      async write(chunk) {
        if (state !== 'open') throw new FileAccessError('cancelled', 'the upload is closed');
        if (child.exitCode !== null) throw new FileAccessError('io', 'the files worker ended');
        if (!stdin.write(chunk)) await Promise.race([once(stdin, 'drain'), exited]);
      },
      async finish() {
        if (state !== 'open') throw new FileAccessError('cancelled', 'the upload is closed');
        state = 'finished';
        stdin.end();
        await expectOk(reply, child);
        await exited;
      },
      async abort() {
        if (state !== 'open') return;
        state = 'aborted';
        // The worker removes its partial file on SIGTERM; if it is already gone, so is the file's writer.
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      },
    };
  }

  async list(root: number, path: readonly string[]): Promise<{ entries: FileEntry[]; truncated: boolean }> {
    const { child, reply } = this.start({ op: 'list', root, path: [...path], ...this.policy });
    child.stdin!.end();
    const r = await expectOk(reply, child);
    // The worker has only the user's rights, and the viewer validates the listing it is sent.
    return { entries: r.entries as FileEntry[], truncated: r.truncated === true };
  }

  async openDownload(root: number, path: readonly string[]): Promise<FileSource> {
    const { child, reply } = this.start({ op: 'read', root, path: [...path], ...this.policy });
    child.stdin!.end();
    const r = await expectOk(reply, child);
    const size = Number(r.size);
    return {
      name: String(r.name),
      size,
      async *chunks() {
        for await (const data of reply.rest()) {
          for (let off = 0; off < data.length; off += FILE_CHUNK_BYTES)
            yield data.subarray(off, Math.min(off + FILE_CHUNK_BYTES, data.length));
        }
      },
      async close() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      },
    };
  }
}

async function expectOk(reply: LineReader, child: ChildProcess): Promise<Record<string, unknown>> {
  const line = await reply.line();
  if (line === undefined) {
    await once(child, 'exit').catch(() => undefined);
    throw new FileAccessError(
      'io',
      `the files worker ended without an answer (exit ${child.exitCode ?? child.signalCode})`,
    );
  }
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new FileAccessError('io', 'the files worker answered something else than JSON');
  }
  if (v.ok === true) return v;
  const code = (FILE_ERROR_CODES as readonly string[]).includes(String(v.code))
    ? (v.code as FileErrorCode)
    : 'io';
  throw new FileAccessError(code, String(v.message ?? 'the files worker failed').slice(0, 400));
}

/** Reads newline-terminated JSON lines from a stream, then hands over the raw rest. */
class LineReader {
  private buf = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer>;
  constructor(stream: Readable) {
    this.it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }
  async line(): Promise<string | undefined> {
    for (;;) {
      const nl = this.buf.indexOf(10);
      if (nl >= 0) {
        const line = this.buf.subarray(0, nl).toString('utf8');
        this.buf = this.buf.subarray(nl + 1);
        return line;
      }
      if (this.buf.length > MAX_REPLY_LINE) return undefined;
      const next = await this.it.next();
      if (next.done) return undefined;
      this.buf = Buffer.concat([this.buf, next.value]);
    }
  }
  async *rest(): AsyncIterable<Buffer> {
    if (this.buf.length > 0) {
      const first = this.buf;
      this.buf = Buffer.alloc(0);
      yield first;
    }
    for (;;) {
      const next = await this.it.next();
      if (next.done) return;
      yield next.value;
    }
  }
}
