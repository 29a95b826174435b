/**
 * What a desktop session needs from the capture → encode pipeline, kept this small so the session can
 * be tested with a fake and the real pipeline (capture + encoder, built separately) plugs in behind it.
 */
import type { DisplayInfo } from '../../protocol/common.js';
import type { HelperToViewer } from '../../protocol/datachannel.js';

export interface EncodedAccessUnit {
  /** One H.264 access unit in Annex-B form, SPS/PPS in front of every IDR. */
  data: Buffer;
  /** Capture time of the frame in µs (the capture clock; any epoch, monotonic). */
  timestampUs: number;
  keyframe: boolean;
  /** The bitrate its encoder ran at (b/s), when known: the RTP sender paces by it. */
  bitrate?: number;
}

export interface VideoSource {
  /** The session's displays, in the order the viewer's `select_display` indexes them. */
  displays(): DisplayInfo[];
  /** Index (into displays()) of the display being streamed. */
  readonly currentDisplay: number;
  onAccessUnit(cb: (unit: EncodedAccessUnit) => void): () => void;
  /** The next access unit should be an IDR (a viewer joined, lost a packet, or switched display). */
  requestKeyframe(): void;
  /** Streams another display from now on; resolves once the switch is made. */
  setDisplay(index: number): Promise<void> | void;
  /**
   * What this viewer asks for (its `rate` message); absent fields stay as they were. A stream shared
   * with other viewers runs at what they want together (design/MEDIA.md); `close()` withdraws the ask.
   */
  setRate(rate: { bitrate?: number; fps?: number }): void;
  close(): Promise<void> | void;
}

export type CursorMessage = Extract<HelperToViewer, { type: 'cursor' | 'cursor_shape' }>;

/** Cursor position and shape updates, ready to send on the cursor channel. */
export interface CursorFeed {
  onCursor(cb: (msg: CursorMessage) => void): () => void;
  /** Stops polling and frees the cursor source (on X11 an X connection of its own). */
  close(): void;
}
