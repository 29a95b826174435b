import { describe, expect, it } from 'vitest';
import {
  FILE_CHUNK_BYTES,
  frameFileChunk,
  parseFileChunk,
  parseHelperFilesText,
  parseViewerFilesText,
} from '../../src/protocol/files.js';

const sha = 'a'.repeat(64);
const j = (v: unknown) => JSON.stringify(v);

describe('files channel protocol', () => {
  it('accepts an offer with and without a checksum', () => {
    expect(parseViewerFilesText(j({ type: 'offer', id: 1, name: 'a.txt', size: 3 }))).toEqual({
      type: 'offer',
      id: 1,
      name: 'a.txt',
      size: 3,
    });
    expect(parseViewerFilesText(j({ type: 'offer', id: 2, name: 'b', size: 0, sha256: sha })).type).toBe(
      'offer',
    );
  });

  it.each([
    [{ type: 'offer', id: 0, name: 'a', size: 1 }, 'id'],
    [{ type: 'offer', id: 1, name: '', size: 1 }, 'name'],
    [{ type: 'offer', id: 1, name: 'a', size: -1 }, 'size'],
    [{ type: 'offer', id: 1, name: 'a', size: 1.5 }, 'size'],
    [{ type: 'offer', id: 1, name: 'a', size: 1, sha256: 'ABC' }, 'sha256'],
    [{ type: 'offer', id: 1, name: 'a', size: 1, extra: 1 }, 'extra'],
    [{ type: 'list', req: 1, root: 0, path: ['..'] }, 'path[0]'],
    [{ type: 'list', req: 1, root: 0, path: ['a/b'] }, 'path[0]'],
    [{ type: 'get', id: 1, root: 0, path: ['a\\b'] }, 'path[0]'],
    [{ type: 'get', id: 1, root: 99, path: [] }, 'root'],
    [{ type: 'nope' }, 'type'],
  ])('refuses %j naming %s', (msg, field) => {
    expect(() => parseViewerFilesText(j(msg))).toThrow(new RegExp(`^${field.replace(/[[\]]/g, '\\$&')}`));
  });

  it('refuses text that is not JSON or too long, and binary where text is expected', () => {
    expect(() => parseViewerFilesText('{')).toThrow(/not valid JSON/);
    expect(() => parseViewerFilesText('x'.repeat(300_000))).toThrow(/longer/);
    expect(() => parseViewerFilesText(new Uint8Array(4))).toThrow(/text/);
  });

  it('validates what the helper sends, listings included', () => {
    const listing = {
      type: 'listing',
      req: 3,
      root: 0,
      path: ['Documents'],
      entries: [{ name: 'x', kind: 'file', size: 1, mtime: 0 }],
      truncated: false,
    };
    expect(parseHelperFilesText(j(listing))).toEqual(listing);
    expect(() =>
      parseHelperFilesText(j({ ...listing, entries: [{ name: '..', kind: 'dir', size: 0, mtime: 0 }] })),
    ).toThrow(/entries\[0\]\.name/);
    expect(() => parseHelperFilesText(j({ type: 'error', code: 'whatever', message: '' }))).toThrow(/code/);
  });

  it('frames a chunk as a big-endian id and its payload, and bounds it', () => {
    const framed = frameFileChunk(0x01020304, new Uint8Array([9, 8]));
    expect([...framed]).toEqual([1, 2, 3, 4, 9, 8]);
    const { id, data } = parseFileChunk(framed);
    expect(id).toBe(0x01020304);
    expect([...data]).toEqual([9, 8]);
    expect(() => parseFileChunk(new Uint8Array(4))).toThrow(/shorter/);
    expect(() => parseFileChunk(new Uint8Array(5 + FILE_CHUNK_BYTES))).toThrow(/longer/);
    expect(() => parseFileChunk(new Uint8Array([0, 0, 0, 0, 1]))).toThrow(/chunk.id/);
  });
});
