/**
 * The authenticated frame: the unit every message travels in once the handshake is done.
 *
 *   offset      size  field
 *   0           4     length: uint32 BE, the number of bytes after this field (1 + 8 + n + 32)
 *   4           1     direction: 0x01 service → helper, 0x02 helper → service
 *   5           8     sequence: uint64 BE, 0 for the first frame in this direction, then +1
 *   13          n     payload: one msgpack value
 *   13 + n      32    tag: HMAC-SHA256(direction key, bytes 4 … 13 + n)
 *
 * See design/IPC.md for why each field is there.
 */
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import { FrameError } from './errors.js';

export const LENGTH_BYTES = 4;
export const DIRECTION_BYTES = 1;
export const SEQUENCE_BYTES = 8;
export const TAG_BYTES = 32;
/** Bytes after the length field that are not payload. */
export const FRAME_BODY_OVERHEAD = DIRECTION_BYTES + SEQUENCE_BYTES + TAG_BYTES;
/** Every byte of a frame that is not payload. */
export const FRAME_OVERHEAD = LENGTH_BYTES + FRAME_BODY_OVERHEAD;
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

export const Direction = { serviceToHelper: 0x01, helperToService: 0x02 } as const;
export type Direction = (typeof Direction)[keyof typeof Direction];

/** Sequences stay exact JavaScript numbers; 2^53 frames is more than any connection will carry. */
const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER;
const SEQ_OFFSET = LENGTH_BYTES + DIRECTION_BYTES;
const PAYLOAD_OFFSET = SEQ_OFFSET + SEQUENCE_BYTES;

/**
 * Splits a byte stream into length-prefixed frames. It reads the 4-byte length, refuses it before
 * allocating anything if it is outside [minBody, maxBody], then collects exactly that many bytes. It
 * only ever holds one partial frame, so its memory is bounded by maxBody + 4.
 */
export class FrameReader {
  private readonly header = Buffer.alloc(LENGTH_BYTES);
  private headerFill = 0;
  private body: Buffer | null = null;
  private bodyFill = 0;

  constructor(
    private readonly minBody: number,
    private readonly maxBody: number,
  ) {}

  /** True while part of a frame is buffered: at end of stream, that means the frame was truncated. */
  get hasPartialFrame(): boolean {
    return this.headerFill > 0 || this.body !== null;
  }

  /**
   * Feeds one chunk; calls onFrame with each complete frame body (the bytes after the length
   * field) in order. A frame may be a view into `chunk`: onFrame must finish with it synchronously.
   * onFrame returning false stops the reader (the connection is closing). Throws FrameError on a
   * length outside the bounds.
   */
  push(chunk: Buffer, onFrame: (body: Buffer) => boolean | void): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.body === null) {
        // Fast path: the whole frame is inside this chunk and nothing is pending.
        if (this.headerFill === 0 && chunk.length - at >= LENGTH_BYTES) {
          const length = chunk.readUInt32BE(at);
          this.checkLength(length);
          if (chunk.length - at - LENGTH_BYTES >= length) {
            const start = at + LENGTH_BYTES;
            at = start + length;
            if (onFrame(chunk.subarray(start, at)) === false) return;
            continue;
          }
          this.body = Buffer.allocUnsafe(length);
          this.bodyFill = 0;
          at += LENGTH_BYTES;
        } else {
          const n = Math.min(LENGTH_BYTES - this.headerFill, chunk.length - at);
          chunk.copy(this.header, this.headerFill, at, at + n);
          this.headerFill += n;
          at += n;
          if (this.headerFill < LENGTH_BYTES) return;
          const length = this.header.readUInt32BE(0);
          this.checkLength(length);
          this.headerFill = 0;
          this.body = Buffer.allocUnsafe(length);
          this.bodyFill = 0;
        }
      }
      const n = Math.min(this.body.length - this.bodyFill, chunk.length - at);
      chunk.copy(this.body, this.bodyFill, at, at + n);
      this.bodyFill += n;
      at += n;
      if (this.bodyFill === this.body.length) {
        const body = this.body;
        this.body = null;
        if (onFrame(body) === false) return;
      }
    }
  }

  private checkLength(length: number): void {
    if (length < this.minBody) throw new FrameError('short_frame', `length ${length} < ${this.minBody}`);
    if (length > this.maxBody) throw new FrameError('oversized_frame', `length ${length} > ${this.maxBody}`);
  }
}

/** A FrameReader for authenticated frames no larger than maxFrameBytes in total. */
export function authenticatedFrameReader(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): FrameReader {
  if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < FRAME_OVERHEAD + 1 || maxFrameBytes > 2 ** 31) {
    throw new RangeError(`maxFrameBytes must be an integer in [${FRAME_OVERHEAD + 1}, 2^31]`);
  }
  return new FrameReader(FRAME_BODY_OVERHEAD + 1, maxFrameBytes - LENGTH_BYTES);
}

/** Writes frames in one direction: numbers them and tags them with that direction's key. */
export class FrameSealer {
  private sequence = 0;

  constructor(
    private readonly key: KeyObject,
    private readonly direction: Direction,
  ) {}

  /** The whole frame (length prefix included) carrying `payload`. */
  seal(payload: Uint8Array): Buffer {
    if (this.sequence > MAX_SEQUENCE) throw new FrameError('sequence_exhausted');
    const frame = Buffer.allocUnsafe(FRAME_OVERHEAD + payload.length);
    frame.writeUInt32BE(frame.length - LENGTH_BYTES, 0);
    frame[LENGTH_BYTES] = this.direction;
    writeSequence(frame, SEQ_OFFSET, this.sequence);
    frame.set(payload, PAYLOAD_OFFSET);
    const tagAt = PAYLOAD_OFFSET + payload.length;
    createHmac('sha256', this.key).update(frame.subarray(LENGTH_BYTES, tagAt)).digest().copy(frame, tagAt);
    this.sequence += 1;
    return frame;
  }
}

/**
 * Checks frames from one direction: the tag first (so nothing unauthenticated is interpreted), then
 * the direction byte, then that the sequence is exactly the next one, which refuses replayed,
 * reordered and dropped frames alike. Returns the payload as a view into the frame.
 */
export class FrameOpener {
  private expected = 0;

  constructor(
    private readonly key: KeyObject,
    private readonly direction: Direction,
  ) {}

  /** `body` is a frame without its length field, as FrameReader yields it. */
  open(body: Buffer): Buffer {
    if (body.length < FRAME_BODY_OVERHEAD + 1) throw new FrameError('short_frame');
    const tagAt = body.length - TAG_BYTES;
    const expectedTag = createHmac('sha256', this.key).update(body.subarray(0, tagAt)).digest();
    if (!timingSafeEqual(expectedTag, body.subarray(tagAt))) throw new FrameError('bad_tag');
    if (body[0] !== this.direction) throw new FrameError('bad_direction');
    const sequence = readSequence(body, DIRECTION_BYTES);
    if (sequence !== this.expected) {
      throw new FrameError(
        sequence < this.expected ? 'replayed_sequence' : 'skipped_sequence',
        `got ${sequence}, expected ${this.expected}`,
      );
    }
    if (this.expected >= MAX_SEQUENCE) throw new FrameError('sequence_exhausted');
    this.expected += 1;
    return body.subarray(DIRECTION_BYTES + SEQUENCE_BYTES, tagAt);
  }
}

function writeSequence(buf: Buffer, at: number, value: number): void {
  buf.writeUInt32BE(Math.floor(value / 2 ** 32), at);
  buf.writeUInt32BE(value >>> 0, at + 4);
}

/** Returns Infinity for values above 2^53 so they can never equal an expected sequence. */
function readSequence(buf: Buffer, at: number): number {
  const high = buf.readUInt32BE(at);
  if (high > 0x1f_ffff) return Number.POSITIVE_INFINITY;
  return high * 2 ** 32 + buf.readUInt32BE(at + 4);
}
