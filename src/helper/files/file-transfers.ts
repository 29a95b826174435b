/**
 * The helper's side of one viewer's `files` channel: the state of every transfer, flow control and
 * checksums. It talks to the file system only through a FileAccess, which acts as the session user.
 *
 * Uploads (viewer → machine): offer → queued (at most MAX_QUEUED_OFFERS) → accepted (one at a time,
 * its file created exclusively, `accept` names it) → chunks written in order, `ack` every
 * FILE_ACK_BYTES → `done` → size and SHA-256 checked (against `done` and the offer's own, if any)
 * → the file is flushed and `complete`; any failure or a `cancel` removes the partial file.
 * Downloads (machine → viewer): `get` → queued → opened → `offer` → chunks within the window of
 * unacknowledged bytes and the channel's buffer limit → `done` with the SHA-256 → the viewer's
 * `complete` or `cancel`.
 */
import { createHash, type Hash } from 'node:crypto';
import {
  FILE_ACK_BYTES,
  FILE_BUFFER_HIGH,
  FILE_WINDOW_BYTES,
  MAX_QUEUED_OFFERS,
  frameFileChunk,
  parseFileChunk,
  parseViewerFilesText,
  type FileErrorCode,
  type HelperFilesMessage,
  type TransferId,
  type ViewerFilesMessage,
} from '../../protocol/files.js';
import type { Logger } from '../../log/logger.js';
import { errorMessage } from '../../errors/error-text.js';
import { FileAccessError, type FileAccess, type FileSink, type FileSource } from './file-access.js';

/** The DataChannel as the transfers need it (desktop-peer.ts adapts node-datachannel's). */
export interface FilesChannel {
  /** False when the channel refused the message (closed); a message buffered for later is accepted. */
  sendText(text: string): boolean;
  sendBinary(data: Uint8Array): boolean;
  bufferedAmount(): number;
  /** Called when bufferedAmount falls to the channel's low threshold. */
  onBufferedLow(cb: () => void): void;
}

export interface FileTransfersOptions {
  channel: FilesChannel;
  access: FileAccess;
  maxUploadBytes: number;
  log: Pick<Logger, 'info' | 'warn' | 'debug'>;
  /** Told of each finished or failed transfer (metadata only: for the audit of issue 17 §2). */
  onTransfer?: (t: { direction: 'upload' | 'download'; name: string; size: number; outcome: string }) => void;
  /**
   * Bytes moved: an upload chunk was taken, or the viewer acknowledged download bytes. The session's
   * idle timeout counts this as activity (a transfer in progress is not cut as idle; a stalled one is).
   * Called per chunk: it must only record the time.
   */
  onProgress?: () => void;
}

interface Upload {
  id: TransferId;
  offered: string;
  size: number;
  sha256?: string;
  state: 'queued' | 'opening' | 'receiving' | 'verifying';
  sink?: FileSink;
  hash: Hash;
  received: number;
  written: number;
  ackedAt: number;
  /** Writes run one after another, in arrival order. */
  writes: Promise<void>;
  /** Bytes received but not written yet: bounded, so a sender ignoring the window cannot fill memory. */
  pending: number;
  doneSha?: string;
}

interface Download {
  id: TransferId;
  root: number;
  path: string[];
  state: 'queued' | 'sending' | 'awaiting_complete';
  source?: FileSource;
  sent: number;
  acked: number;
  cancelled: boolean;
}

/** Ids recently finished, whose late chunks (sent before a cancel crossed) are dropped quietly. */
const MAX_ENDED = 64;

export class FileTransfers {
  private readonly uploads = new Map<TransferId, Upload>();
  private readonly downloads = new Map<TransferId, Download>();
  private readonly ended: TransferId[] = [];
  private listing: Promise<void> = Promise.resolve();
  private listingsQueued = 0;
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(private readonly opts: FileTransfersOptions) {
    opts.channel.onBufferedLow(() => this.kick());
  }

  /** Announces the roots; call once the channel is open. */
  hello(): void {
    this.send({
      type: 'roots',
      roots: [...this.opts.access.roots],
      maxUploadBytes: this.opts.maxUploadBytes,
    });
  }

  receiveText(text: unknown): void {
    let msg: ViewerFilesMessage;
    try {
      msg = parseViewerFilesText(text);
    } catch (err) {
      this.opts.log.warn({ err: errorMessage(err) }, 'bad files message dropped');
      this.send({ type: 'error', code: 'bad_message', message: errorMessage(err).slice(0, 400) });
      return;
    }
    switch (msg.type) {
      case 'offer':
        return this.offer(msg);
      case 'done':
        return this.uploadDone(msg.id, msg.sha256);
      case 'cancel':
        return this.cancel(msg.id, msg.code);
      case 'ack': {
        const d = this.downloads.get(msg.id);
        if (d && msg.bytes > d.acked && msg.bytes <= d.sent) {
          d.acked = msg.bytes;
          this.opts.onProgress?.();
        }
        this.kick();
        return;
      }
      case 'complete': {
        const d = this.downloads.get(msg.id);
        if (d?.state === 'awaiting_complete') this.endDownload(d, 'complete');
        return;
      }
      case 'list':
        return this.list(msg.req, msg.root, msg.path);
      case 'get':
        return this.get(msg.id, msg.root, msg.path);
    }
  }

  receiveBinary(bytes: Uint8Array): void {
    let chunk: { id: TransferId; data: Uint8Array };
    try {
      chunk = parseFileChunk(bytes);
    } catch (err) {
      this.opts.log.warn({ err: errorMessage(err) }, 'bad file chunk dropped');
      return;
    }
    const u = this.uploads.get(chunk.id);
    if (!u) {
      if (!this.ended.includes(chunk.id))
        this.opts.log.debug({ id: chunk.id }, 'chunk for no transfer dropped');
      return;
    }
    if (u.state !== 'receiving') return this.failUpload(u, 'bad_message', 'data before accept or after done');
    u.received += chunk.data.byteLength;
    if (u.received > u.size) return this.failUpload(u, 'size_mismatch', 'more bytes than offered');
    if (u.pending + chunk.data.byteLength > 2 * FILE_WINDOW_BYTES)
      return this.failUpload(u, 'bad_message', 'the sender ignored the flow-control window');
    u.hash.update(chunk.data);
    this.opts.onProgress?.();
    // node-datachannel hands over its own Buffer per message: no copy is needed to keep it.
    const data = chunk.data;
    u.pending += data.byteLength;
    u.writes = u.writes.then(async () => {
      if (this.uploads.get(u.id) !== u) return;
      await u.sink!.write(data);
      u.pending -= data.byteLength;
      u.written += data.byteLength;
      if (u.written - u.ackedAt >= FILE_ACK_BYTES || u.written === u.size) {
        u.ackedAt = u.written;
        this.send({ type: 'ack', id: u.id, bytes: u.written });
      }
    });
    u.writes.catch((err: unknown) => this.failUpload(u, codeOf(err), errorMessage(err)));
  }

  /** The channel closed or the session ended: every partial upload is removed, every download stopped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const aborts = [...this.uploads.values()].map((u) => u.sink?.abort());
    for (const d of this.downloads.values()) d.cancelled = true;
    const closes = [...this.downloads.values()].map((d) => d.source?.close());
    this.uploads.clear();
    this.downloads.clear();
    this.kick();
    await Promise.allSettled([...aborts, ...closes]);
  }

  private send(msg: HelperFilesMessage): boolean {
    if (this.closed) return false;
    return this.opts.channel.sendText(JSON.stringify(msg));
  }

  private offer(msg: Extract<ViewerFilesMessage, { type: 'offer' }>): void {
    if (this.uploads.has(msg.id) || this.downloads.has(msg.id)) {
      this.send({ type: 'error', id: msg.id, code: 'busy', message: 'this id is in use' });
      return;
    }
    if ([...this.uploads.values()].length >= MAX_QUEUED_OFFERS + 1) {
      this.send({
        type: 'error',
        id: msg.id,
        code: 'busy',
        message: `at most ${MAX_QUEUED_OFFERS} files may wait`,
      });
      return;
    }
    if (msg.size > this.opts.maxUploadBytes) {
      this.send({
        type: 'error',
        id: msg.id,
        code: 'too_large',
        message: `larger than the ${this.opts.maxUploadBytes} bytes allowed`,
      });
      this.report('upload', msg.name, msg.size, 'too_large');
      return;
    }
    this.uploads.set(msg.id, {
      id: msg.id,
      offered: msg.name,
      size: msg.size,
      ...(msg.sha256 ? { sha256: msg.sha256 } : {}),
      state: 'queued',
      hash: createHash('sha256'),
      received: 0,
      written: 0,
      ackedAt: 0,
      writes: Promise.resolve(),
      pending: 0,
    });
    this.nextUpload();
  }

  /** Opens the first queued upload when none is active. */
  private nextUpload(): void {
    const all = [...this.uploads.values()];
    if (all.some((u) => u.state !== 'queued')) return;
    const u = all[0];
    if (!u) return;
    u.state = 'opening';
    this.opts.access.createUpload(u.offered, u.size).then(
      (sink) => {
        if (this.uploads.get(u.id) !== u) {
          void sink.abort();
          return;
        }
        u.sink = sink;
        u.state = 'receiving';
        this.send({ type: 'accept', id: u.id, name: sink.name });
        if (u.doneSha !== undefined) this.uploadDone(u.id, u.doneSha);
      },
      (err: unknown) => this.failUpload(u, codeOf(err), errorMessage(err)),
    );
  }

  private uploadDone(id: TransferId, sha256: string): void {
    const u = this.uploads.get(id);
    if (!u) return;
    if (u.state !== 'receiving') return this.failUpload(u, 'bad_message', '`done` before `accept`');
    u.state = 'verifying';
    void u.writes.then(async () => {
      if (this.uploads.get(id) !== u) return;
      const got = u.hash.digest('hex');
      if (u.written !== u.size)
        return this.failUpload(u, 'size_mismatch', `${u.written} of ${u.size} bytes arrived`);
      if (got !== sha256 || (u.sha256 !== undefined && got !== u.sha256))
        return this.failUpload(u, 'checksum_mismatch', 'the SHA-256 of the bytes received differs');
      try {
        await u.sink!.finish();
      } catch (err) {
        return this.failUpload(u, codeOf(err), errorMessage(err));
      }
      this.uploads.delete(id);
      this.remember(id);
      this.send({ type: 'complete', id, sha256: got, name: u.sink!.name });
      this.opts.log.info({ id, size: u.size }, 'upload stored');
      this.report('upload', u.sink!.name, u.size, 'complete');
      this.nextUpload();
    });
  }

  private failUpload(u: Upload, code: FileErrorCode, message: string): void {
    if (this.uploads.get(u.id) !== u) return;
    this.uploads.delete(u.id);
    this.remember(u.id);
    void u.sink?.abort();
    this.send({ type: 'error', id: u.id, code, message: message.slice(0, 400) });
    this.opts.log.info({ id: u.id, code }, 'upload failed');
    this.report('upload', u.sink?.name ?? u.offered, u.size, code);
    this.nextUpload();
  }

  private cancel(id: TransferId, code: FileErrorCode | undefined): void {
    const u = this.uploads.get(id);
    if (u) {
      this.uploads.delete(id);
      this.remember(id);
      void u.sink?.abort();
      this.report('upload', u.sink?.name ?? u.offered, u.size, code ?? 'cancelled');
      this.nextUpload();
      return;
    }
    const d = this.downloads.get(id);
    if (d) this.endDownload(d, code ?? 'cancelled');
  }

  private list(req: number, root: number, path: string[]): void {
    if (this.listingsQueued >= 4) {
      this.send({ type: 'error', req, code: 'busy', message: 'too many listings at once' });
      return;
    }
    this.listingsQueued++;
    this.listing = this.listing.then(async () => {
      try {
        const { entries, truncated } = await this.opts.access.list(root, path);
        this.sendListing(req, root, path, entries, truncated);
      } catch (err) {
        this.send({ type: 'error', req, code: codeOf(err), message: errorMessage(err).slice(0, 400) });
      } finally {
        this.listingsQueued--;
      }
    });
  }

  /** Sends as many entries as fit one message; the rest are cut and `truncated` says so. */
  private sendListing(
    req: number,
    root: number,
    path: string[],
    entries: Extract<HelperFilesMessage, { type: 'listing' }>['entries'],
    truncated: boolean,
  ): void {
    let n = entries.length;
    for (;;) {
      const msg = {
        type: 'listing',
        req,
        root,
        path,
        entries: entries.slice(0, n),
        truncated: truncated || n < entries.length,
      } as const;
      const text = JSON.stringify(msg);
      if (text.length <= 180 * 1024 || n === 0) {
        if (!this.closed) this.opts.channel.sendText(text);
        return;
      }
      n = Math.floor(n * 0.8);
    }
  }

  private get(id: TransferId, root: number, path: string[]): void {
    if (this.downloads.has(id) || this.uploads.has(id)) {
      this.send({ type: 'error', id, code: 'busy', message: 'this id is in use' });
      return;
    }
    if (this.downloads.size >= MAX_QUEUED_OFFERS + 1) {
      this.send({ type: 'error', id, code: 'busy', message: `at most ${MAX_QUEUED_OFFERS} files may wait` });
      return;
    }
    this.downloads.set(id, { id, root, path, state: 'queued', sent: 0, acked: 0, cancelled: false });
    this.nextDownload();
  }

  private nextDownload(): void {
    const all = [...this.downloads.values()];
    if (all.some((d) => d.state !== 'queued')) return;
    const d = all[0];
    if (!d) return;
    d.state = 'sending';
    void this.sendDownload(d);
  }

  private async sendDownload(d: Download): Promise<void> {
    const name = d.path[d.path.length - 1] ?? '';
    try {
      d.source = await this.opts.access.openDownload(d.root, d.path);
      if (d.cancelled) return void (await d.source.close());
      const hash = createHash('sha256');
      this.send({ type: 'offer', id: d.id, name: d.source.name, size: d.source.size });
      for await (const chunk of d.source.chunks()) {
        while (
          !d.cancelled &&
          (d.sent - d.acked >= FILE_WINDOW_BYTES || this.opts.channel.bufferedAmount() > FILE_BUFFER_HIGH)
        )
          await new Promise<void>((r) => (this.wake = r));
        if (d.cancelled) break;
        const take = chunk.subarray(0, Math.max(0, d.source.size - d.sent));
        if (take.byteLength === 0) break; // the file grew while it was read: the offered size is sent
        hash.update(take);
        if (!this.opts.channel.sendBinary(frameFileChunk(d.id, take)))
          throw new FileAccessError('io', 'the channel refused a chunk');
        d.sent += take.byteLength;
      }
      await d.source.close();
      if (d.cancelled) return;
      if (d.sent !== d.source.size)
        throw new FileAccessError('size_mismatch', 'the file shrank while it was read');
      d.state = 'awaiting_complete';
      this.send({ type: 'done', id: d.id, sha256: hash.digest('hex') });
    } catch (err) {
      await d.source?.close();
      if (this.downloads.get(d.id) !== d) return;
      this.send({ type: 'error', id: d.id, code: codeOf(err), message: errorMessage(err).slice(0, 400) });
      this.endDownload(d, codeOf(err), name);
    }
  }

  private endDownload(d: Download, outcome: string, name = d.source?.name ?? ''): void {
    if (this.downloads.get(d.id) !== d) return;
    d.cancelled = true;
    this.downloads.delete(d.id);
    this.remember(d.id);
    void d.source?.close();
    this.kick();
    this.opts.log.info({ id: d.id, outcome }, 'download ended');
    this.report('download', name, d.source?.size ?? 0, outcome);
    this.nextDownload();
  }

  private kick(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private remember(id: TransferId): void {
    this.ended.push(id);
    if (this.ended.length > MAX_ENDED) this.ended.shift();
  }

  private report(direction: 'upload' | 'download', name: string, size: number, outcome: string): void {
    this.opts.onTransfer?.({ direction, name: name.slice(0, 255), size, outcome });
  }
}

function codeOf(err: unknown): FileErrorCode {
  return err instanceof FileAccessError ? err.code : 'io';
}
