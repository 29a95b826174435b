/**
 * The API's bounded buffer between a helper's relay socket and its viewer's. Frames go to the viewer's
 * socket while less than `inFlightBytes` are unacknowledged by it (ws's send callback); the rest wait
 * here. When the viewer falls behind (the queued video exceeds `maxQueuedBytes`, or its oldest frame
 * has waited `maxDelayMs`) every queued video frame is dropped and video stays dropped until the next
 * keyframe, which is asked for at once: a slow viewer loses frames, never seconds of latency, and never
 * gets a frame its decoder cannot use (one whose reference was dropped). Text frames (control, cursor)
 * are small and never dropped for video's sake; they have a bound of their own.
 */
import type { RelayFrameHeader } from '../../protocol/relay.js';

export interface ViewerQueueOptions {
  /** Video bytes that may wait here (default 2 MiB: a few keyframes at high quality). */
  maxQueuedBytes?: number;
  /** Oldest a waiting video frame may get before the queue skips to the next keyframe (default 500 ms). */
  maxDelayMs?: number;
  /** Text frames that may wait here; beyond it the viewer is too slow to serve (default 1024). */
  maxQueuedText?: number;
  now: () => number;
  /** The queue is dropping video until a keyframe: ask the helper for one. */
  onKeyframeNeeded: () => void;
}

export const DEFAULT_MAX_QUEUED_BYTES = 2 * 1024 * 1024;
export const DEFAULT_MAX_DELAY_MS = 500;
export const DEFAULT_MAX_QUEUED_TEXT = 1024;

interface Queued {
  frame: Uint8Array;
  video: boolean;
  at: number;
}

export interface ViewerQueueStats {
  /** Frames handed on to the viewer's socket, of which `forwardedVideo` were video. */
  forwarded: number;
  forwardedVideo: number;
  droppedFrames: number;
  droppedBytes: number;
  /** Times the queue started waiting for a keyframe. */
  skips: number;
}

/** Thrown by push when text frames exceed their bound: the viewer is cut (1008). */
export class ViewerTooSlowError extends Error {
  override name = 'ViewerTooSlowError';
}

export class ViewerQueue {
  private readonly queue: Queued[] = [];
  private videoBytes = 0;
  private textCount = 0;
  /** Video is dropped until a keyframe arrives. Starts true: a decoder can begin only at a keyframe. */
  private awaitingKeyframe = true;
  readonly stats: ViewerQueueStats = {
    forwarded: 0,
    forwardedVideo: 0,
    droppedFrames: 0,
    droppedBytes: 0,
    skips: 0,
  };
  private readonly maxBytes: number;
  private readonly maxDelayMs: number;
  private readonly maxText: number;

  constructor(private readonly opts: ViewerQueueOptions) {
    this.maxBytes = opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.maxDelayMs = opts.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    this.maxText = opts.maxQueuedText ?? DEFAULT_MAX_QUEUED_TEXT;
  }

  get length(): number {
    return this.queue.length;
  }

  get queuedVideoBytes(): number {
    return this.videoBytes;
  }

  get waitingForKeyframe(): boolean {
    return this.awaitingKeyframe;
  }

  push(frame: Uint8Array, header: RelayFrameHeader): void {
    const now = this.opts.now();
    if (header.type !== 'video') {
      if (this.textCount >= this.maxText)
        throw new ViewerTooSlowError(`more than ${this.maxText} messages wait for the viewer`);
      this.textCount++;
      this.queue.push({ frame, video: false, at: now });
      return;
    }
    if (this.awaitingKeyframe) {
      if (!header.keyframe) return this.drop(frame.byteLength);
      this.awaitingKeyframe = false;
    } else if (this.behind(now, frame.byteLength)) {
      this.skipToKeyframe();
      if (!header.keyframe) return this.drop(frame.byteLength);
      this.awaitingKeyframe = false;
    }
    this.videoBytes += frame.byteLength;
    this.queue.push({ frame, video: true, at: now });
  }

  /** The next frame for the viewer's socket, if any. */
  shift(): Uint8Array | undefined {
    const next = this.queue.shift();
    if (!next) return undefined;
    if (next.video) {
      this.videoBytes -= next.frame.byteLength;
      this.stats.forwardedVideo++;
    } else this.textCount--;
    this.stats.forwarded++;
    return next.frame;
  }

  private behind(now: number, adding: number): boolean {
    if (this.videoBytes + adding > this.maxBytes) return true;
    const oldest = this.queue.find((q) => q.video);
    return oldest !== undefined && now - oldest.at >= this.maxDelayMs;
  }

  private skipToKeyframe(): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const q = this.queue[i];
      if (q?.video) {
        this.queue.splice(i, 1);
        this.drop(q.frame.byteLength);
      }
    }
    this.videoBytes = 0;
    this.awaitingKeyframe = true;
    this.stats.skips++;
    this.opts.onKeyframeNeeded();
  }

  private drop(bytes: number): void {
    this.stats.droppedFrames++;
    this.stats.droppedBytes += bytes;
  }
}
