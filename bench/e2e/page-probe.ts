/**
 * Runs inside the page (bundled by probe-bundle.ts and added as an init script): watches what the
 * viewer displays and counts the bytes it receives.
 *
 * - A `<video>` (porthole): `requestVideoFrameCallback` on every presented frame → the stamp corner is
 *   drawn into a small canvas and decoded.
 * - A `<canvas>` (noVNC): polled once per animation frame, the stamp corner read with getImageData.
 *
 * Both take the callback's frame time (the rendering step that shows the frame) as "displayed", on the
 * page's wall clock (`performance.timeOrigin` + that time), which is the painter's clock too.
 * Bytes: every WebSocket message's payload, plus `bytesReceived` of each RTCPeerConnection's transport.
 */
import { stampArea } from '../../src/helper/capture/frame-stamp.js';
import { DisplayLog, readStampRgba } from './measure.js';

interface ProbeState {
  log: DisplayLog;
  connectAt: number;
  firstPictureAt: number;
  wsBytes: number;
  peers: RTCPeerConnection[];
}

const state: ProbeState = {
  log: new DisplayLog(),
  connectAt: Number.NaN,
  firstPictureAt: Number.NaN,
  wsBytes: 0,
  peers: [],
};
const wall = (t: number): number => performance.timeOrigin + t;

const scratch = document.createElement('canvas');
const scratchCtx = scratch.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;

function look(
  source: CanvasImageSource,
  width: number,
  height: number,
  at: number,
  receivedAt?: number,
): void {
  const area = stampArea(width);
  const w = Math.min(width, area.width);
  const h = Math.min(height, area.height);
  if (w <= 0 || h <= 0) return;
  if (scratch.width !== w || scratch.height !== h) {
    scratch.width = w;
    scratch.height = h;
  }
  scratchCtx.drawImage(source, 0, 0, w, h, 0, 0, w, h);
  const stamp = readStampRgba(scratchCtx.getImageData(0, 0, w, h).data, w, h);
  if (stamp && Number.isNaN(state.firstPictureAt) && !Number.isNaN(state.connectAt)) {
    state.firstPictureAt = wall(at);
  }
  state.log.record(stamp, wall(at), receivedAt === undefined ? undefined : wall(receivedAt));
}

const watchedVideos = new WeakSet<HTMLVideoElement>();
function watchVideo(video: HTMLVideoElement): void {
  if (watchedVideos.has(video)) return;
  watchedVideos.add(video);
  const onFrame = (now: DOMHighResTimeStamp, meta: VideoFrameCallbackMetadata): void => {
    if (video.videoWidth > 0) look(video, video.videoWidth, video.videoHeight, now, meta.receiveTime);
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}

function watchCanvases(): void {
  const tick = (now: DOMHighResTimeStamp): void => {
    const canvas = [...document.querySelectorAll('canvas')].find((c) => c !== scratch && c.width > 0);
    if (canvas) look(canvas, canvas.width, canvas.height, now);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

const mode =
  new URLSearchParams(location.search).get('e2eProbe') ??
  (location.pathname.includes('novnc') ? 'canvas' : 'video');

// Count WebSocket payload bytes (noVNC's framebuffer updates arrive this way).
const NativeWebSocket = window.WebSocket;
// A factory rather than a subclass: noVNC checks that the socket's own prototype has `send`, `close`, …
function CountingWebSocket(url: string | URL, protocols?: string | string[]): WebSocket {
  const ws = new NativeWebSocket(url, protocols);
  ws.addEventListener('message', (ev: MessageEvent) => {
    const d: unknown = ev.data;
    if (d instanceof ArrayBuffer) state.wsBytes += d.byteLength;
    else if (d instanceof Blob) state.wsBytes += d.size;
    else if (typeof d === 'string') state.wsBytes += d.length;
  });
  return ws;
}
CountingWebSocket.prototype = NativeWebSocket.prototype;
Object.assign(CountingWebSocket, {
  CONNECTING: NativeWebSocket.CONNECTING,
  OPEN: NativeWebSocket.OPEN,
  CLOSING: NativeWebSocket.CLOSING,
  CLOSED: NativeWebSocket.CLOSED,
});
window.WebSocket = CountingWebSocket as unknown as typeof WebSocket;

const NativePeer = window.RTCPeerConnection;
window.RTCPeerConnection = class extends NativePeer {
  constructor(config?: RTCConfiguration) {
    super(config);
    state.peers.push(this);
  }
};

async function bytesReceived(): Promise<number> {
  let total = state.wsBytes;
  for (const pc of state.peers) {
    const stats = await pc.getStats();
    stats.forEach((s: { type?: string; bytesReceived?: number }) => {
      if (s.type === 'transport') total += s.bytesReceived ?? 0;
    });
  }
  return total;
}

export interface ProbeSnapshot {
  frames: number;
  sourceFps: number;
  unreadable: number;
  latencies: number[];
  arrivals: number[];
  /** Wall ms at which each distinct frame was displayed. */
  shownAt: number[];
  connectToFirstPictureMs: number;
  bytes: number;
  wallMs: number;
}

const api = {
  markConnect(): void {
    state.connectAt = wall(performance.now());
    state.firstPictureAt = Number.NaN;
  },
  reset(): void {
    state.log = new DisplayLog();
  },
  async snapshot(): Promise<ProbeSnapshot> {
    const s = state.log.snapshot();
    return {
      frames: s.frames,
      sourceFps: s.sourceFps,
      unreadable: s.unreadable,
      latencies: s.latencies,
      arrivals: s.arrivals,
      shownAt: s.shownAt,
      connectToFirstPictureMs: state.firstPictureAt - state.connectAt,
      bytes: await bytesReceived(),
      wallMs: wall(performance.now()),
    };
  },
};
(window as unknown as { __e2e: typeof api }).__e2e = api;
// For benchmarks that read WebRTC statistics (bench:net).
(window as unknown as { __e2ePeers: RTCPeerConnection[] }).__e2ePeers = state.peers;

if (mode === 'canvas') {
  watchCanvases();
} else {
  const scan = (): void => document.querySelectorAll('video').forEach(watchVideo);
  new MutationObserver(scan).observe(document, { childList: true, subtree: true });
  document.addEventListener('DOMContentLoaded', scan);
}
