/**
 * The `files` DataChannel (reliable, ordered): file transfer both ways between a viewer and the
 * helper, and the listing of the user's allowed roots. design/FILES.md describes the exchange; this
 * module holds its messages, limits and validators (bundled into the viewer too: no Node APIs).
 *
 * Two kinds of DataChannel message share the channel:
 * - text: one JSON object per message (the types below), at most MAX_FILES_TEXT characters;
 * - binary: one chunk of a transfer, `id` as uint32 big-endian, then 1 … FILE_CHUNK_BYTES bytes.
 *   The viewer's chunks belong to its uploads, the helper's to the viewer's downloads; both kinds of
 *   id are chosen by the viewer, so a chunk's direction says which transfer it is.
 *
 * Flow control is by window: a sender keeps at most FILE_WINDOW_BYTES sent but not acknowledged
 * (`ack` from the receiver, after the bytes are written), and stops while its DataChannel's
 * bufferedAmount is above FILE_BUFFER_HIGH, resuming at `bufferedamountlow` (threshold FILE_BUFFER_LOW).
 */
import { arrayOf, bool, fail, int, isRecord, object, oneOf, optional, str, type Guard } from './validate.js';

export const FILES_CHANNEL = 'files';

/** Payload bytes per chunk; the 4-byte id comes on top. 64 KiB is libdatachannel's default SCTP message. */
export const FILE_CHUNK_BYTES = 64 * 1024;
export const FILE_CHUNK_HEADER = 4;
/** Bytes a sender may have sent and not yet seen acknowledged. */
export const FILE_WINDOW_BYTES = 8 * 1024 * 1024;
/** A receiver acknowledges at least this often (and at the end). */
export const FILE_ACK_BYTES = 1024 * 1024;
/** A sender pauses above this many buffered bytes on its DataChannel and resumes below FILE_BUFFER_LOW. */
export const FILE_BUFFER_HIGH = 4 * 1024 * 1024;
export const FILE_BUFFER_LOW = 1024 * 1024;
/** Largest JSON text on the channel (a listing is the largest message). */
export const MAX_FILES_TEXT = 192 * 1024;
/** Offers the helper holds waiting for the active upload to finish. */
export const MAX_QUEUED_OFFERS = 16;
/** Entries of one listing; a larger folder is answered with the first ones and `truncated`. */
export const MAX_LISTING_ENTRIES = 1000;
export const MAX_PATH_SEGMENTS = 64;
/** A name as offered (before the helper sanitises it), in UTF-16 code units. */
export const MAX_OFFERED_NAME = 1024;
/** A name component on disk: 255 bytes on ext4/NTFS-ish file systems (checked as UTF-8 by the helper). */
export const MAX_NAME_BYTES = 255;
export const MAX_TRANSFER_ID = 0x7fff_ffff;

export const FILE_ERROR_CODES = [
  /** The name is not allowed (`..`, a separator, a device name, a stream…). */
  'bad_name',
  /** Larger than the policy allows. */
  'too_large',
  /** Not enough free space where the file would land. */
  'no_space',
  /** The bytes received do not hash to what the sender said. */
  'checksum_mismatch',
  /** More or fewer bytes than offered. */
  'size_mismatch',
  'not_found',
  /** The user's identity may not do this (permissions). */
  'denied',
  /** The path leads out of the allowed roots (through `..`, a symlink, a junction or a reparse point). */
  'outside_root',
  'not_a_file',
  /** Too many offers queued, or an id already in use. */
  'busy',
  /** The OS refused the read or write for another reason. */
  'io',
  'bad_message',
  /** The other side or the user cancelled. */
  'cancelled',
  /** File transfer is off for this session or this viewer. */
  'unavailable',
] as const;
export type FileErrorCode = (typeof FILE_ERROR_CODES)[number];

export type TransferId = number;
export const transferId: Guard<TransferId> = int(1, MAX_TRANSFER_ID);
const sha256Hex = str({ min: 64, max: 64, pattern: /^[0-9a-f]{64}$/ });
const byteCount = int(0, Number.MAX_SAFE_INTEGER);
/**
 * One component of a path under a root. Structural confinement: a component is never empty, `.`, `..`
 * and holds no separator or NUL; the helper still resolves links against the root (path-confine.ts).
 */
export const pathSegment: Guard<string> = (v, path) => {
  const s = str({ min: 1, max: MAX_NAME_BYTES })(v, path);
  if (s === '.' || s === '..') fail(path, 'must not be . or ..');
  if (/[/\\\0]/.test(s)) fail(path, 'must not contain a path separator or NUL');
  return s;
};
const segments = arrayOf(pathSegment, { max: MAX_PATH_SEGMENTS });
const rootIndex = int(0, 15);
const message = str({ max: 500 });

export type FileEntryKind = 'file' | 'dir' | 'link' | 'other';
export interface FileEntry {
  name: string;
  kind: FileEntryKind;
  /** Bytes for a file; 0 otherwise. */
  size: number;
  /** Modification time, ms since the epoch. */
  mtime: number;
}

/** Viewer → helper. */
export type ViewerFilesMessage =
  | { type: 'offer'; id: TransferId; name: string; size: number; sha256?: string }
  | { type: 'done'; id: TransferId; sha256: string }
  | { type: 'cancel'; id: TransferId; code?: FileErrorCode }
  | { type: 'ack'; id: TransferId; bytes: number }
  | { type: 'complete'; id: TransferId; sha256: string }
  | { type: 'list'; req: number; root: number; path: string[] }
  | { type: 'get'; id: TransferId; root: number; path: string[] };

/** Helper → viewer. */
export type HelperFilesMessage =
  | { type: 'roots'; roots: string[]; maxUploadBytes: number }
  | { type: 'accept'; id: TransferId; name: string }
  | { type: 'ack'; id: TransferId; bytes: number }
  | { type: 'complete'; id: TransferId; sha256: string; name?: string }
  | { type: 'offer'; id: TransferId; name: string; size: number }
  | { type: 'done'; id: TransferId; sha256: string }
  | { type: 'cancel'; id: TransferId; code?: FileErrorCode }
  | {
      type: 'listing';
      req: number;
      root: number;
      path: string[];
      entries: FileEntry[];
      truncated: boolean;
    }
  | { type: 'error'; id?: TransferId; req?: number; code: FileErrorCode; message: string };

type Guards<U extends { type: string }> = { [K in U['type']]: Guard<Extract<U, { type: K }>> };
const t = <T extends string>(v: T) => oneOf([v] as const);
const code = oneOf(FILE_ERROR_CODES);
const reqId = int(0, MAX_TRANSFER_ID);

const viewerGuards: Guards<ViewerFilesMessage> = {
  offer: object({
    type: t('offer'),
    id: transferId,
    name: str({ min: 1, max: MAX_OFFERED_NAME }),
    size: byteCount,
    sha256: optional(sha256Hex),
  }),
  done: object({ type: t('done'), id: transferId, sha256: sha256Hex }),
  cancel: object({ type: t('cancel'), id: transferId, code: optional(code) }),
  ack: object({ type: t('ack'), id: transferId, bytes: byteCount }),
  complete: object({ type: t('complete'), id: transferId, sha256: sha256Hex }),
  list: object({ type: t('list'), req: reqId, root: rootIndex, path: segments }),
  get: object({ type: t('get'), id: transferId, root: rootIndex, path: segments }),
};

const entryGuard = object({
  name: pathSegment,
  kind: oneOf(['file', 'dir', 'link', 'other']),
  size: byteCount,
  mtime: int(-8.64e15, 8.64e15),
});

const helperGuards: Guards<HelperFilesMessage> = {
  roots: object({
    type: t('roots'),
    roots: arrayOf(str({ min: 1, max: 64 }), { max: 16 }),
    maxUploadBytes: byteCount,
  }),
  accept: object({ type: t('accept'), id: transferId, name: pathSegment }),
  ack: object({ type: t('ack'), id: transferId, bytes: byteCount }),
  complete: object({ type: t('complete'), id: transferId, sha256: sha256Hex, name: optional(pathSegment) }),
  offer: object({ type: t('offer'), id: transferId, name: pathSegment, size: byteCount }),
  done: object({ type: t('done'), id: transferId, sha256: sha256Hex }),
  cancel: object({ type: t('cancel'), id: transferId, code: optional(code) }),
  listing: object({
    type: t('listing'),
    req: reqId,
    root: rootIndex,
    path: segments,
    entries: arrayOf(entryGuard, { max: MAX_LISTING_ENTRIES }),
    truncated: bool,
  }),
  error: object({
    type: t('error'),
    id: optional(transferId),
    req: optional(reqId),
    code,
    message,
  }),
};

function parseWith<U extends { type: string }>(guards: Guards<U>, text: unknown): U {
  if (typeof text !== 'string') fail('', 'expected a text message');
  if (text.length > MAX_FILES_TEXT) fail('', `message longer than ${MAX_FILES_TEXT} characters`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    fail('', 'message is not valid JSON');
  }
  if (!isRecord(v)) fail('', 'message must be a JSON object');
  const type = oneOf(Object.keys(guards) as U['type'][])(v.type, 'type');
  return (guards[type] as Guard<U>)(v, '');
}

/** Parses a viewer's text message on `files` (the helper's side). */
export const parseViewerFilesText = (text: unknown): ViewerFilesMessage => parseWith(viewerGuards, text);
/** Parses a helper's text message on `files` (the viewer's side). */
export const parseHelperFilesText = (text: unknown): HelperFilesMessage => parseWith(helperGuards, text);

/** A binary chunk: its transfer id and payload (a view into `bytes`, not a copy). */
export function parseFileChunk(bytes: Uint8Array): { id: TransferId; data: Uint8Array } {
  if (bytes.byteLength <= FILE_CHUNK_HEADER) fail('chunk', 'shorter than its header and one byte');
  if (bytes.byteLength > FILE_CHUNK_HEADER + FILE_CHUNK_BYTES)
    fail('chunk', `longer than ${FILE_CHUNK_BYTES} bytes of payload`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const id = view.getUint32(0, false);
  if (id < 1 || id > MAX_TRANSFER_ID) fail('chunk.id', 'out of range');
  return { id, data: bytes.subarray(FILE_CHUNK_HEADER) };
}

/** Frames one chunk: the id, then the payload (copied once into the frame). */
export function frameFileChunk(id: TransferId, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(FILE_CHUNK_HEADER + data.byteLength);
  new DataView(out.buffer).setUint32(0, id, false);
  out.set(data, FILE_CHUNK_HEADER);
  return out;
}
