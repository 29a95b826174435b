/**
 * The helper's transfer state machine against a fake channel and an in-memory FileAccess: no
 * DataChannel, no disk, no clock.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FileAccessError, type FileAccess, type FileSink } from '../../../src/helper/files/file-access.js';
import { FileTransfers } from '../../../src/helper/files/file-transfers.js';
import {
  FILE_CHUNK_BYTES,
  FILE_WINDOW_BYTES,
  frameFileChunk,
  parseFileChunk,
  parseHelperFilesText,
  type HelperFilesMessage,
} from '../../../src/protocol/files.js';
import { silentLogger } from '../../../src/log/logger.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const tick = () => new Promise((r) => setImmediate(r));

function fakeChannel() {
  const texts: HelperFilesMessage[] = [];
  const chunks: { id: number; data: Uint8Array }[] = [];
  let low: () => void = () => {};
  const ch = {
    buffered: 0,
    texts,
    chunks,
    sendText: (t: string) => (texts.push(parseHelperFilesText(t)), true),
    sendBinary: (b: Uint8Array) => {
      const c = parseFileChunk(b);
      chunks.push({ id: c.id, data: Uint8Array.from(c.data) });
      return true;
    },
    bufferedAmount: () => ch.buffered,
    onBufferedLow: (cb: () => void) => (low = cb),
    fireLow: () => low(),
  };
  return ch;
}

interface MemFile {
  name: string;
  bytes: Buffer[];
  state: 'open' | 'finished' | 'aborted';
}

function memAccess(file: Buffer = Buffer.alloc(0)) {
  const files: MemFile[] = [];
  const access: FileAccess & { files: MemFile[] } = {
    files,
    roots: ['Home'],
    async createUpload(name) {
      if (name === 'CON') throw new FileAccessError('bad_name', 'device name');
      const f: MemFile = { name, bytes: [], state: 'open' };
      files.push(f);
      const sink: FileSink = {
        name,
        write: async (c) => void f.bytes.push(Buffer.from(c)),
        finish: async () => void (f.state = 'finished'),
        abort: async () => void (f.state = 'aborted'),
      };
      return sink;
    },
    async list() {
      return { entries: [{ name: 'a.txt', kind: 'file', size: 1, mtime: 0 }], truncated: false };
    },
    async openDownload(_root, path) {
      if (path[0] === 'missing') throw new FileAccessError('not_found', 'no such file');
      return {
        name: path.at(-1)!,
        size: file.length,
        async *chunks() {
          for (let o = 0; o < file.length; o += FILE_CHUNK_BYTES)
            yield file.subarray(o, o + FILE_CHUNK_BYTES);
        },
        close: async () => undefined,
      };
    },
  };
  return access;
}

function setup(file?: Buffer) {
  const channel = fakeChannel();
  const access = memAccess(file);
  const events: { direction: string; outcome: string }[] = [];
  const progress = { count: 0 };
  const t = new FileTransfers({
    channel,
    access,
    maxUploadBytes: 1000_000,
    log: silentLogger,
    onTransfer: (e) => events.push(e),
    onProgress: () => progress.count++,
  });
  const viewer = (m: object) => t.receiveText(JSON.stringify(m));
  return { channel, access, t, viewer, events, progress };
}

const sent = (s: ReturnType<typeof setup>, id: number, data: Buffer, step = 5) => {
  for (let o = 0; o < data.length; o += step)
    s.t.receiveBinary(frameFileChunk(id, data.subarray(o, o + step)));
};

describe('uploads', () => {
  it('stores a file: accept, acks, complete with its checksum', async () => {
    const s = setup();
    const data = Buffer.from('hello files');
    s.viewer({ type: 'offer', id: 1, name: 'h.txt', size: data.length, sha256: sha(data) });
    await tick();
    expect(s.channel.texts).toContainEqual({ type: 'accept', id: 1, name: 'h.txt' });
    sent(s, 1, data);
    s.viewer({ type: 'done', id: 1, sha256: sha(data) });
    await tick();
    expect(s.access.files[0]).toMatchObject({ state: 'finished' });
    expect(Buffer.concat(s.access.files[0]!.bytes).toString()).toBe('hello files');
    expect(s.channel.texts).toContainEqual({ type: 'ack', id: 1, bytes: data.length });
    expect(s.channel.texts.at(-1)).toEqual({ type: 'complete', id: 1, sha256: sha(data), name: 'h.txt' });
    expect(s.events).toEqual([
      { direction: 'upload', name: 'h.txt', size: data.length, outcome: 'complete' },
    ]);
  });

  it('reports progress per chunk taken (the idle timeout counts it), not for a chunk refused', async () => {
    const s = setup();
    const data = Buffer.from('0123456789');
    s.t.receiveBinary(frameFileChunk(9, data)); // no such transfer
    expect(s.progress.count).toBe(0);
    s.viewer({ type: 'offer', id: 1, name: 'p.txt', size: data.length });
    await tick();
    sent(s, 1, data); // two chunks of 5
    expect(s.progress.count).toBe(2);
    s.t.receiveBinary(frameFileChunk(1, Buffer.from('x'))); // beyond the size offered
    expect(s.progress.count).toBe(2);
  });

  it('removes the file when the checksum does not match', async () => {
    const s = setup();
    const data = Buffer.from('hello files');
    s.viewer({ type: 'offer', id: 2, name: 'h.txt', size: data.length });
    await tick();
    sent(s, 2, data);
    s.viewer({ type: 'done', id: 2, sha256: sha(Buffer.from('something else')) });
    await tick();
    expect(s.access.files[0]!.state).toBe('aborted');
    expect(s.channel.texts.at(-1)).toMatchObject({ type: 'error', id: 2, code: 'checksum_mismatch' });
  });

  it('removes the file when the offer named another checksum than done', async () => {
    const s = setup();
    const data = Buffer.from('abc');
    s.viewer({ type: 'offer', id: 3, name: 'h.txt', size: 3, sha256: sha(Buffer.from('xyz')) });
    await tick();
    sent(s, 3, data);
    s.viewer({ type: 'done', id: 3, sha256: sha(data) });
    await tick();
    expect(s.access.files[0]!.state).toBe('aborted');
    expect(s.channel.texts.at(-1)).toMatchObject({ code: 'checksum_mismatch' });
  });

  it('a cancel midway removes the partial file and starts the next queued upload', async () => {
    const s = setup();
    s.viewer({ type: 'offer', id: 4, name: 'one.bin', size: 100 });
    s.viewer({ type: 'offer', id: 5, name: 'two.bin', size: 3 });
    await tick();
    expect(s.channel.texts.filter((m) => m.type === 'accept')).toEqual([
      { type: 'accept', id: 4, name: 'one.bin' },
    ]);
    sent(s, 4, Buffer.alloc(40));
    s.viewer({ type: 'cancel', id: 4 });
    sent(s, 4, Buffer.alloc(10)); // in flight when the cancel crossed: dropped quietly
    await tick();
    expect(s.access.files[0]!.state).toBe('aborted');
    expect(s.channel.texts).toContainEqual({ type: 'accept', id: 5, name: 'two.bin' });
    expect(s.events[0]).toMatchObject({ outcome: 'cancelled' });
  });

  it('refuses more bytes than offered, data before accept, and an offer over the limit', async () => {
    const s = setup();
    s.viewer({ type: 'offer', id: 6, name: 'small', size: 2 });
    await tick();
    sent(s, 6, Buffer.from('abc'), 3);
    await tick();
    expect(s.channel.texts.at(-1)).toMatchObject({ type: 'error', id: 6, code: 'size_mismatch' });
    expect(s.access.files[0]!.state).toBe('aborted');

    s.viewer({ type: 'offer', id: 7, name: 'big', size: 2_000_000 });
    expect(s.channel.texts.at(-1)).toMatchObject({ type: 'error', id: 7, code: 'too_large' });
  });

  it('passes a refused name back with its code and moves on', async () => {
    const s = setup();
    s.viewer({ type: 'offer', id: 8, name: 'CON', size: 1 });
    s.viewer({ type: 'offer', id: 9, name: 'ok', size: 0 });
    await tick();
    await tick();
    expect(s.channel.texts).toContainEqual(
      expect.objectContaining({ type: 'error', id: 8, code: 'bad_name' }),
    );
    expect(s.channel.texts).toContainEqual({ type: 'accept', id: 9, name: 'ok' });
  });

  it('closing the channel removes every partial upload', async () => {
    const s = setup();
    s.viewer({ type: 'offer', id: 10, name: 'p', size: 10 });
    await tick();
    sent(s, 10, Buffer.alloc(4));
    await s.t.close();
    expect(s.access.files[0]!.state).toBe('aborted');
  });

  it('answers a bad message with bad_message, without a crash', () => {
    const s = setup();
    s.t.receiveText('{"type":"offer","id":1,"name":"../x"');
    expect(s.channel.texts.at(-1)).toMatchObject({ type: 'error', code: 'bad_message' });
  });
});

describe('downloads', () => {
  it('sends offer, chunks and done with the SHA-256, and ends at the viewer complete', async () => {
    const file = Buffer.alloc(3 * FILE_CHUNK_BYTES + 7, 1);
    const s = setup(file);
    s.viewer({ type: 'get', id: 20, root: 0, path: ['d.bin'] });
    for (let i = 0; i < 5; i++) await tick();
    expect(s.channel.texts[0]).toEqual({ type: 'offer', id: 20, name: 'd.bin', size: file.length });
    expect(Buffer.concat(s.channel.chunks.map((c) => c.data))).toEqual(file);
    expect(s.channel.texts.at(-1)).toEqual({ type: 'done', id: 20, sha256: sha(file) });
    s.viewer({ type: 'complete', id: 20, sha256: sha(file) });
    expect(s.events).toEqual([
      { direction: 'download', name: 'd.bin', size: file.length, outcome: 'complete' },
    ]);
  });

  it('stops at the window of unacknowledged bytes and resumes on ack', async () => {
    const file = Buffer.alloc(FILE_WINDOW_BYTES + 4 * FILE_CHUNK_BYTES, 2);
    const s = setup(file);
    s.viewer({ type: 'get', id: 21, root: 0, path: ['w.bin'] });
    for (let i = 0; i < 400; i++) await tick();
    const sentBytes = () => s.channel.chunks.reduce((n, c) => n + c.data.length, 0);
    expect(sentBytes()).toBe(FILE_WINDOW_BYTES);
    expect(s.progress.count).toBe(0);
    s.viewer({ type: 'ack', id: 21, bytes: FILE_WINDOW_BYTES });
    expect(s.progress.count).toBe(1);
    s.viewer({ type: 'ack', id: 21, bytes: FILE_WINDOW_BYTES }); // nothing new acknowledged
    expect(s.progress.count).toBe(1);
    for (let i = 0; i < 20; i++) await tick();
    expect(sentBytes()).toBe(file.length);
  });

  it('stops while the channel buffer is above its high mark and resumes at bufferedamountlow', async () => {
    const file = Buffer.alloc(4 * FILE_CHUNK_BYTES, 3);
    const s = setup(file);
    s.channel.buffered = 64 * 1024 * 1024;
    s.viewer({ type: 'get', id: 22, root: 0, path: ['b.bin'] });
    for (let i = 0; i < 20; i++) await tick();
    expect(s.channel.texts.map((m) => m.type)).toEqual(['offer']);
    expect(s.channel.chunks).toHaveLength(0);
    s.channel.buffered = 0;
    s.channel.fireLow();
    for (let i = 0; i < 20; i++) await tick();
    expect(s.channel.chunks).toHaveLength(4);
  });

  it('a cancel stops the download; a missing file is an error naming not_found', async () => {
    const s = setup(Buffer.alloc(FILE_WINDOW_BYTES * 2));
    s.viewer({ type: 'get', id: 23, root: 0, path: ['c.bin'] });
    for (let i = 0; i < 50; i++) await tick();
    s.viewer({ type: 'cancel', id: 23 });
    s.viewer({ type: 'ack', id: 23, bytes: FILE_WINDOW_BYTES });
    for (let i = 0; i < 50; i++) await tick();
    expect(s.channel.chunks.reduce((n, c) => n + c.data.length, 0)).toBeLessThanOrEqual(FILE_WINDOW_BYTES);
    expect(s.channel.texts.some((m) => m.type === 'done')).toBe(false);
    s.viewer({ type: 'get', id: 24, root: 0, path: ['missing'] });
    for (let i = 0; i < 5; i++) await tick();
    expect(s.channel.texts.at(-1)).toMatchObject({ type: 'error', id: 24, code: 'not_found' });
  });

  it('answers a listing request', async () => {
    const s = setup();
    s.viewer({ type: 'list', req: 7, root: 0, path: [] });
    await tick();
    await tick();
    expect(s.channel.texts.at(-1)).toMatchObject({ type: 'listing', req: 7, entries: [{ name: 'a.txt' }] });
  });
});
