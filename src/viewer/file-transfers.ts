/**
 * The viewer's side of the `files` channel (protocol in src/protocol/files.ts, design/FILES.md):
 * uploads of dropped or picked files, listings of the remote roots, downloads kept in memory until
 * their SHA-256 matches and then handed to the browser to save. No DOM here: files-panel.ts shows it.
 */
import {
  FILE_BUFFER_HIGH,
  FILE_BUFFER_LOW,
  FILE_CHUNK_BYTES,
  FILE_ACK_BYTES,
  FILE_WINDOW_BYTES,
  frameFileChunk,
  parseFileChunk,
  parseHelperFilesText,
  type FileEntry,
  type HelperFilesMessage,
  type ViewerFilesMessage,
} from '../protocol/files.js';
import { Sha256 } from './sha256.js';

export type TransferState =
  'queued' | 'sending' | 'receiving' | 'verifying' | 'complete' | 'failed' | 'cancelled';

export interface Transfer {
  id: number;
  direction: 'upload' | 'download';
  name: string;
  size: number;
  /** Bytes the other side has stored (upload) or this side has received (download). */
  done: number;
  state: TransferState;
  /** Why it failed, for people. */
  message?: string;
  sha256?: string;
}

export interface FileTransferEvents {
  onRoots(roots: string[], maxUploadBytes: number): void;
  onChange(t: Transfer): void;
  /** A verified download: the caller saves it. */
  onDownloaded(t: Transfer, blob: Blob): void;
  /** An error that concerns no transfer (file transfer unavailable, a bad message). */
  onNotice(message: string): void;
}

interface Upload extends Transfer {
  file: Blob;
  sent: number;
  acked: number;
}

interface Download extends Transfer {
  parts: Uint8Array[];
  hash: Sha256;
  ackedAt: number;
}

export class ViewerFileTransfers {
  private nextId = 1;
  private readonly uploads = new Map<number, Upload>();
  private readonly downloads = new Map<number, Download>();
  private readonly listings = new Map<
    number,
    { resolve: (v: { entries: FileEntry[]; truncated: boolean }) => void; reject: (e: Error) => void }
  >();
  private wake: (() => void) | undefined;

  constructor(
    private readonly channel: RTCDataChannel,
    private readonly events: FileTransferEvents,
  ) {
    channel.binaryType = 'arraybuffer';
    channel.bufferedAmountLowThreshold = FILE_BUFFER_LOW;
    channel.addEventListener('bufferedamountlow', () => this.kick());
    channel.addEventListener('message', (ev: MessageEvent) => this.onMessage(ev.data));
    channel.addEventListener('close', () => this.onClose());
  }

  upload(file: Blob, name: string): Transfer {
    const t: Upload = {
      id: this.nextId++,
      direction: 'upload',
      name,
      size: file.size,
      done: 0,
      state: 'queued',
      file,
      sent: 0,
      acked: 0,
    };
    this.uploads.set(t.id, t);
    this.send({ type: 'offer', id: t.id, name, size: file.size });
    this.events.onChange(t);
    return t;
  }

  list(root: number, path: string[]): Promise<{ entries: FileEntry[]; truncated: boolean }> {
    const req = this.nextId++;
    return new Promise((resolve, reject) => {
      this.listings.set(req, { resolve, reject });
      this.send({ type: 'list', req, root, path });
    });
  }

  download(root: number, path: string[]): Transfer {
    const t: Download = {
      id: this.nextId++,
      direction: 'download',
      name: path[path.length - 1] ?? '',
      size: 0,
      done: 0,
      state: 'queued',
      parts: [],
      hash: new Sha256(),
      ackedAt: 0,
    };
    this.downloads.set(t.id, t);
    this.send({ type: 'get', id: t.id, root, path });
    this.events.onChange(t);
    return t;
  }

  cancel(id: number): void {
    const t = this.uploads.get(id) ?? this.downloads.get(id);
    if (!t) return;
    this.send({ type: 'cancel', id });
    this.end(t, 'cancelled', 'cancelled');
  }

  private send(msg: ViewerFilesMessage): void {
    if (this.channel.readyState === 'open') this.channel.send(JSON.stringify(msg));
  }

  private end(t: Transfer, state: TransferState, message?: string): void {
    this.uploads.delete(t.id);
    this.downloads.delete(t.id);
    t.state = state;
    if (message) t.message = message;
    if (t.direction === 'download') (t as Download).parts = [];
    this.kick();
    this.events.onChange(t);
  }

  private onMessage(data: unknown): void {
    if (data instanceof ArrayBuffer) return this.onChunk(new Uint8Array(data));
    let msg: HelperFilesMessage;
    try {
      msg = parseHelperFilesText(data);
    } catch (err) {
      this.events.onNotice(`dropped a files message: ${(err as Error).message}`);
      return;
    }
    switch (msg.type) {
      case 'roots':
        return this.events.onRoots(msg.roots, msg.maxUploadBytes);
      case 'accept': {
        const u = this.uploads.get(msg.id);
        if (!u) return;
        u.name = msg.name;
        u.state = 'sending';
        this.events.onChange(u);
        void this.stream(u).catch((err: unknown) => {
          this.send({ type: 'cancel', id: u.id, code: 'io' });
          this.end(u, 'failed', `could not read the file: ${(err as Error).message}`);
        });
        return;
      }
      case 'ack': {
        const u = this.uploads.get(msg.id);
        if (u && msg.bytes > u.acked) {
          u.acked = msg.bytes;
          u.done = msg.bytes;
          this.events.onChange(u);
          this.kick();
        }
        return;
      }
      case 'complete': {
        const u = this.uploads.get(msg.id);
        if (!u) return;
        u.done = u.size;
        u.sha256 = msg.sha256;
        if (msg.name) u.name = msg.name;
        return this.end(u, 'complete');
      }
      case 'offer': {
        const d = this.downloads.get(msg.id);
        if (!d) return;
        d.name = msg.name;
        d.size = msg.size;
        d.state = 'receiving';
        return this.events.onChange(d);
      }
      case 'done': {
        const d = this.downloads.get(msg.id);
        if (!d) return;
        const got = d.hash.hex();
        if (d.done !== d.size) {
          this.send({ type: 'cancel', id: d.id, code: 'size_mismatch' });
          return this.end(d, 'failed', `${d.done} of ${d.size} bytes arrived`);
        }
        if (got !== msg.sha256) {
          this.send({ type: 'cancel', id: d.id, code: 'checksum_mismatch' });
          return this.end(d, 'failed', 'the checksum does not match: the file was not saved');
        }
        this.send({ type: 'complete', id: d.id, sha256: got });
        const blob = new Blob(d.parts as BlobPart[], { type: 'application/octet-stream' });
        d.sha256 = got;
        this.end(d, 'complete');
        this.events.onDownloaded(d, blob);
        return;
      }
      case 'cancel': {
        const t = this.uploads.get(msg.id) ?? this.downloads.get(msg.id);
        if (t) this.end(t, 'cancelled', `cancelled by the remote side${msg.code ? ` (${msg.code})` : ''}`);
        return;
      }
      case 'listing': {
        const l = this.listings.get(msg.req);
        this.listings.delete(msg.req);
        l?.resolve({ entries: msg.entries, truncated: msg.truncated });
        return;
      }
      case 'error': {
        if (msg.req !== undefined && this.listings.has(msg.req)) {
          const l = this.listings.get(msg.req)!;
          this.listings.delete(msg.req);
          return l.reject(new Error(`${msg.message} (${msg.code})`));
        }
        const t = msg.id !== undefined ? (this.uploads.get(msg.id) ?? this.downloads.get(msg.id)) : undefined;
        if (t) return this.end(t, 'failed', `${msg.message} (${msg.code})`);
        return this.events.onNotice(`${msg.message} (${msg.code})`);
      }
    }
  }

  private onChunk(bytes: Uint8Array): void {
    let chunk: { id: number; data: Uint8Array };
    try {
      chunk = parseFileChunk(bytes);
    } catch {
      return;
    }
    const d = this.downloads.get(chunk.id);
    if (!d || d.state !== 'receiving') return;
    if (d.done + chunk.data.byteLength > d.size) {
      this.send({ type: 'cancel', id: d.id, code: 'size_mismatch' });
      return this.end(d, 'failed', 'more bytes than offered');
    }
    d.parts.push(chunk.data);
    d.hash.update(chunk.data);
    d.done += chunk.data.byteLength;
    if (d.done - d.ackedAt >= FILE_ACK_BYTES || d.done === d.size) {
      d.ackedAt = d.done;
      this.send({ type: 'ack', id: d.id, bytes: d.done });
      this.events.onChange(d);
    }
  }

  /** Sends an accepted upload within the window and the channel's buffer limit, then `done`. */
  private async stream(u: Upload): Promise<void> {
    const hash = new Sha256();
    const SLICE = 16 * FILE_CHUNK_BYTES;
    while (u.sent < u.size) {
      const slice = new Uint8Array(
        await u.file.slice(u.sent, Math.min(u.size, u.sent + SLICE)).arrayBuffer(),
      );
      for (let o = 0; o < slice.byteLength; o += FILE_CHUNK_BYTES) {
        while (
          this.uploads.get(u.id) === u &&
          (u.sent - u.acked >= FILE_WINDOW_BYTES || this.channel.bufferedAmount > FILE_BUFFER_HIGH)
        )
          await new Promise<void>((r) => (this.wake = r));
        if (this.uploads.get(u.id) !== u || this.channel.readyState !== 'open') return;
        const part = slice.subarray(o, o + FILE_CHUNK_BYTES);
        hash.update(part);
        this.channel.send(frameFileChunk(u.id, part) as Uint8Array<ArrayBuffer>);
        u.sent += part.byteLength;
      }
    }
    if (this.uploads.get(u.id) !== u) return;
    u.state = 'verifying';
    this.events.onChange(u);
    this.send({ type: 'done', id: u.id, sha256: hash.hex() });
  }

  private kick(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private onClose(): void {
    for (const t of [...this.uploads.values(), ...this.downloads.values()])
      this.end(t, 'failed', 'the connection closed');
    for (const l of this.listings.values()) l.reject(new Error('the connection closed'));
    this.listings.clear();
  }
}
