/**
 * The WebSocket relay (design/API.md, "WebSocket relay"): when WebRTC cannot connect, or the viewer has
 * no RTCPeerConnection, the helper opens its own WebSocket to the API and the viewer another; the API
 * pairs them by a one-time ticket each and forwards binary frames between them. Every frame starts
 * with the same 10-byte header, read by the API (to drop video up to the next keyframe when a viewer
 * falls behind), the helper and the viewer:
 *
 *   byte 0     type: 1 video (helper → viewer, one Annex-B H.264 access unit), 2 input, 3 control,
 *              4 cursor, 5 chat (UTF-8 JSON, the same text the DataChannel of that name carries),
 *              6 ack (viewer → API, no payload: the viewer received the video frame of this
 *              timestamp; the API paces what it hands the viewer's socket by it, and passes it on
 *              unchanged to a helper whose socket URL asked with `acks=1`, for its bitrate control)
 *   byte 1     flags: bit 0 keyframe (video only); the other bits are zero
 *   bytes 2–9  timestamp in µs, float64 big-endian (capture time for video, 0 otherwise)
 *
 * This module is imported by the viewer bundle too: no Node APIs.
 */
import { fail, join, object, str, type Guard } from './validate.js';

export const RELAY_FRAME_TYPES = { video: 1, input: 2, control: 3, cursor: 4, chat: 5, ack: 6 } as const;
export type RelayFrameType = keyof typeof RELAY_FRAME_TYPES;
const TYPE_BY_CODE = new Map<number, RelayFrameType>(
  Object.entries(RELAY_FRAME_TYPES).map(([k, v]) => [v, k as RelayFrameType]),
);

export const RELAY_HEADER_BYTES = 10;
const FLAG_KEYFRAME = 1;
/** A frame larger than this is refused by every side: a 4K keyframe at high quality fits well inside. */
export const MAX_RELAY_FRAME_BYTES = 4 * 1024 * 1024;
/** Text frames (input, control, cursor, chat) stay within what a DataChannel message may carry. */
export const MAX_RELAY_TEXT_BYTES = 256 * 1024;

export interface RelayFrameHeader {
  type: RelayFrameType;
  keyframe: boolean;
  timestampUs: number;
}
export interface RelayFrame extends RelayFrameHeader {
  payload: Uint8Array;
}

/** Why a frame was refused; `field` names the part that was wrong. */
export class RelayFrameError extends Error {
  override name = 'RelayFrameError';
  constructor(
    readonly field: 'length' | 'type' | 'flags' | 'timestamp',
    message: string,
  ) {
    super(message);
  }
}

/** One frame: header then payload, in a fresh buffer. */
export function encodeRelayFrame(header: RelayFrameHeader, payload: Uint8Array): Uint8Array {
  if (header.keyframe && header.type !== 'video')
    throw new RelayFrameError('flags', 'only video is a keyframe');
  if (!Number.isFinite(header.timestampUs) || header.timestampUs < 0)
    throw new RelayFrameError('timestamp', 'timestamp must be a finite number ≥ 0');
  if (RELAY_HEADER_BYTES + payload.byteLength > MAX_RELAY_FRAME_BYTES)
    throw new RelayFrameError('length', `frame larger than ${MAX_RELAY_FRAME_BYTES} bytes`);
  const out = new Uint8Array(RELAY_HEADER_BYTES + payload.byteLength);
  const view = new DataView(out.buffer);
  view.setUint8(0, RELAY_FRAME_TYPES[header.type]);
  view.setUint8(1, header.keyframe ? FLAG_KEYFRAME : 0);
  view.setFloat64(2, header.timestampUs);
  out.set(payload, RELAY_HEADER_BYTES);
  return out;
}

/** The viewer's receipt for the video frame of `timestampUs` (it reads the socket: the API may send on). */
export function encodeRelayAck(timestampUs: number): Uint8Array {
  return encodeRelayFrame({ type: 'ack', keyframe: false, timestampUs }, new Uint8Array(0));
}

/** A JSON message as a text frame of `type`. */
export function encodeRelayText(type: Exclude<RelayFrameType, 'video' | 'ack'>, text: string): Uint8Array {
  return encodeRelayFrame({ type, keyframe: false, timestampUs: 0 }, new TextEncoder().encode(text));
}

/** Reads only the header (the API needs no more); throws RelayFrameError naming what is wrong. */
export function decodeRelayHeader(frame: Uint8Array): RelayFrameHeader {
  if (frame.byteLength < RELAY_HEADER_BYTES)
    throw new RelayFrameError('length', `frame shorter than its ${RELAY_HEADER_BYTES}-byte header`);
  if (frame.byteLength > MAX_RELAY_FRAME_BYTES)
    throw new RelayFrameError('length', `frame larger than ${MAX_RELAY_FRAME_BYTES} bytes`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const type = TYPE_BY_CODE.get(view.getUint8(0));
  if (!type) throw new RelayFrameError('type', `unknown frame type ${view.getUint8(0)}`);
  const flags = view.getUint8(1);
  if ((flags & ~FLAG_KEYFRAME) !== 0)
    throw new RelayFrameError('flags', `unknown flags 0x${flags.toString(16)}`);
  const keyframe = (flags & FLAG_KEYFRAME) !== 0;
  if (keyframe && type !== 'video') throw new RelayFrameError('flags', 'only video is a keyframe');
  const timestampUs = view.getFloat64(2);
  if (!Number.isFinite(timestampUs) || timestampUs < 0)
    throw new RelayFrameError('timestamp', 'timestamp must be a finite number ≥ 0');
  if (type !== 'video' && frame.byteLength - RELAY_HEADER_BYTES > MAX_RELAY_TEXT_BYTES)
    throw new RelayFrameError('length', `a ${type} frame carries at most ${MAX_RELAY_TEXT_BYTES} bytes`);
  return { type, keyframe, timestampUs };
}

/** Header and payload (a view into `frame`, not a copy). */
export function decodeRelayFrame(frame: Uint8Array): RelayFrame {
  const header = decodeRelayHeader(frame);
  return { ...header, payload: frame.subarray(RELAY_HEADER_BYTES) };
}

/**
 * `start_desktop.relay` (feature `ws_relay`): where the helper opens its socket and the one-time ticket
 * it presents there. The ticket is minted by the API instance the viewer talks to, names that instance
 * and this desktop connection, and is good for one connection within RELAY_TICKET_TTL_MS.
 */
export interface RelayTarget {
  url: string;
  ticket: string;
}
/** `<instance>.<random>`: the instance id (hex) and 32 random bytes in base64url. */
export const RELAY_TICKET_PATTERN = /^[0-9a-f]{1,32}\.[A-Za-z0-9_-]{43}$/;
export const relayTicket = str({ min: 10, max: 80, pattern: RELAY_TICKET_PATTERN });
export const relayTarget: Guard<RelayTarget> = (v, path) => {
  const t = object({ url: str({ min: 1, max: 2048 }), ticket: relayTicket })(v, path);
  let url: URL;
  try {
    url = new URL(t.url);
  } catch {
    fail(join(path, 'url'), 'must be an absolute URL');
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') fail(join(path, 'url'), 'must be a ws: or wss: URL');
  if (url.username || url.password) fail(join(path, 'url'), 'must carry no credentials');
  return t;
};

/** The only transport value besides the default (WebRTC). */
export const TRANSPORTS = ['webrtc', 'websocket'] as const;
export type Transport = (typeof TRANSPORTS)[number];
