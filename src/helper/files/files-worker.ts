/**
 * The files worker: a short-lived process the helper starts **as the session user** (child_process
 * `uid`/`gid`, so it never runs a line as root) when the helper itself is root. It does one operation
 * with LocalFileAccess and exits, so every byte written or read goes through a process that has the
 * user's identity and nothing more.
 *
 * stdio protocol (the helper is its only peer):
 *   stdin:  one JSON line (the request), then, for `write`, the file's bytes until end of input;
 *   stdout: one JSON line (`{ok: true, …}` or `{ok: false, code, message}`), then, for `read`, the
 *           file's bytes; for `write`, a second line once the file is flushed and closed.
 * SIGTERM during a write removes the partial file before exiting (the helper's cancel).
 */
import type { Readable, Writable } from 'node:stream';
import { FILE_ERROR_CODES } from '../../protocol/files.js';
import { arrayOf, int, object, oneOf, optional, str, type Guard } from '../../protocol/validate.js';
import { pathSegment } from '../../protocol/files.js';
import { FileAccessError, type FileSink } from './file-access.js';
import { LocalFileAccess } from './local-file-access.js';

const MAX_REQUEST_LINE = 64 * 1024;
const policy = {
  home: str({ min: 1, max: 4096 }),
  uploadDir: optional(str({ min: 1, max: 4096 })),
  roots: optional(arrayOf(str({ min: 1, max: 4096 }), { max: 16 })),
  maxUploadBytes: int(0, Number.MAX_SAFE_INTEGER),
};
const segments = arrayOf(pathSegment, { max: 64 });

export type WorkerRequest =
  | ({ op: 'write'; name: string; size: number } & WorkerPolicy)
  | ({ op: 'list'; root: number; path: string[] } & WorkerPolicy)
  | ({ op: 'read'; root: number; path: string[] } & WorkerPolicy);
export interface WorkerPolicy {
  home: string;
  uploadDir?: string;
  roots?: string[];
  maxUploadBytes: number;
}

const requestGuards: Record<WorkerRequest['op'], Guard<WorkerRequest>> = {
  write: object({
    op: oneOf(['write']),
    name: str({ min: 1, max: 1024 }),
    size: int(0, Number.MAX_SAFE_INTEGER),
    ...policy,
  }),
  list: object({ op: oneOf(['list']), root: int(0, 15), path: segments, ...policy }),
  read: object({ op: oneOf(['read']), root: int(0, 15), path: segments, ...policy }),
};

export function parseWorkerRequest(line: string): WorkerRequest {
  const v = JSON.parse(line) as { op?: unknown };
  const op = oneOf(['write', 'list', 'read'])(v.op, 'op');
  return requestGuards[op](v, '');
}

/** Runs one request; resolves with the exit code. */
export async function runFilesWorker(stdin: Readable, stdout: Writable): Promise<number> {
  const say = (v: object): Promise<void> =>
    new Promise((resolve) => stdout.write(`${JSON.stringify(v)}\n`, () => resolve()));
  const iterator = stdin[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head = Buffer.alloc(0);
  let rest: Buffer | undefined;
  while (rest === undefined) {
    const next = await iterator.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
    const nl = head.indexOf(10);
    if (nl >= 0) {
      rest = head.subarray(nl + 1);
      head = head.subarray(0, nl);
    } else if (head.length > MAX_REQUEST_LINE) break;
  }
  let req: WorkerRequest;
  try {
    if (rest === undefined) throw new Error('no request line');
    req = parseWorkerRequest(head.toString('utf8'));
  } catch (err) {
    await say({ ok: false, code: 'bad_message', message: `bad request: ${(err as Error).message}` });
    return 2;
  }
  const access = new LocalFileAccess(req);
  let sink: FileSink | undefined;
  const onTerm = (): void => {
    void (sink?.abort() ?? Promise.resolve()).finally(() => process.exit(1));
  };
  process.on('SIGTERM', onTerm);
  try {
    switch (req.op) {
      case 'list': {
        await say({ ok: true, ...(await access.list(req.root, req.path)) });
        return 0;
      }
      case 'read': {
        const source = await access.openDownload(req.root, req.path);
        await say({ ok: true, name: source.name, size: source.size });
        for await (const chunk of source.chunks()) {
          if (!stdout.write(chunk)) await new Promise((r) => stdout.once('drain', r));
        }
        await source.close();
        await new Promise<void>((r) => stdout.end(r));
        return 0;
      }
      case 'write': {
        sink = await access.createUpload(req.name, req.size);
        await say({ ok: true, name: sink.name });
        let written = 0;
        const put = async (chunk: Buffer): Promise<void> => {
          written += chunk.length;
          if (written > req.size) throw new FileAccessError('size_mismatch', 'more bytes than offered');
          await sink!.write(chunk);
        };
        if (rest.length > 0) await put(rest);
        for (;;) {
          const next = await iterator.next();
          if (next.done) break;
          await put(next.value);
        }
        if (written !== req.size)
          throw new FileAccessError('size_mismatch', `${written} of ${req.size} bytes`);
        await sink.finish();
        await say({ ok: true, bytes: written });
        return 0;
      }
    }
  } catch (err) {
    await sink?.abort();
    const code =
      err instanceof FileAccessError && (FILE_ERROR_CODES as readonly string[]).includes(err.code)
        ? err.code
        : 'io';
    await say({ ok: false, code, message: (err as Error).message.slice(0, 400) });
    return 1;
  } finally {
    process.off('SIGTERM', onTerm);
  }
}
