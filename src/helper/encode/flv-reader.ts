/**
 * Reads the H.264 access units out of an FLV byte stream (what `ffmpeg -f flv pipe:1` writes).
 *
 * Why FLV: every tag carries its length, so each access unit is complete the moment its last byte
 * arrives. A raw Annex-B stream only shows where a frame ends when the next one starts, which costs a
 * frame of latency.
 */
import { avccToAnnexB, parameterSetsAnnexB, parseAvcDecoderConfig, withParameterSets } from './annexb.js';

export interface FlvVideoFrame {
  /** Annex-B, SPS/PPS in front of every IDR. */
  data: Buffer;
  keyframe: boolean;
  /** FLV timestamp in ms (decode time). */
  timestampMs: number;
}

const FLV_HEADER = 9 + 4; // header + PreviousTagSize0
const TAG_HEADER = 11;
const MAX_TAG = 64 * 1024 * 1024;

export class FlvReader {
  private buffer: Buffer = Buffer.alloc(0);
  private headerSeen = false;
  private parameterSets: Buffer | undefined;
  private lengthSize = 4;

  /** Feeds bytes; returns the video frames they completed. Throws on a malformed stream. */
  push(chunk: Buffer): FlvVideoFrame[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: FlvVideoFrame[] = [];
    let p = 0;
    if (!this.headerSeen) {
      if (this.buffer.length < FLV_HEADER) return frames;
      if (this.buffer.toString('latin1', 0, 3) !== 'FLV') throw new Error('FLV: bad signature');
      this.headerSeen = true;
      p = this.buffer.readUInt32BE(5) + 4;
    }
    for (;;) {
      if (this.buffer.length - p < TAG_HEADER) break;
      const type = this.buffer[p] ?? 0;
      const size = this.buffer.readUIntBE(p + 1, 3);
      if (size > MAX_TAG) throw new Error(`FLV: tag of ${size} bytes`);
      if (this.buffer.length - p < TAG_HEADER + size + 4) break;
      const ts = this.buffer.readUIntBE(p + 4, 3) + (this.buffer[p + 7] ?? 0) * 2 ** 24;
      const body = this.buffer.subarray(p + TAG_HEADER, p + TAG_HEADER + size);
      p += TAG_HEADER + size + 4;
      if ((type & 0x1f) === 9) {
        const frame = this.videoTag(body, ts);
        if (frame) frames.push(frame);
      }
    }
    // Copy the remainder so the consumed chunks can be collected.
    this.buffer = p === 0 ? this.buffer : Buffer.from(this.buffer.subarray(p));
    return frames;
  }

  private videoTag(body: Buffer, timestampMs: number): FlvVideoFrame | undefined {
    if (body.length < 5) return undefined;
    const frameType = (body[0] ?? 0) >> 4;
    const codecId = (body[0] ?? 0) & 0x0f;
    if (codecId !== 7) throw new Error(`FLV: video codec id ${codecId} is not AVC`);
    const packetType = body[1];
    const payload = body.subarray(5);
    if (packetType === 0) {
      const config = parseAvcDecoderConfig(payload);
      this.parameterSets = parameterSetsAnnexB(config);
      this.lengthSize = config.lengthSize;
      return undefined;
    }
    if (packetType !== 1 || payload.length === 0) return undefined;
    const keyframe = frameType === 1;
    const annexB = Buffer.concat(avccToAnnexB(payload, this.lengthSize));
    return { data: keyframe ? withParameterSets(annexB, this.parameterSets) : annexB, keyframe, timestampMs };
  }
}
