/**
 * One desktop over the API's WebSocket relay, for when WebRTC cannot connect or the browser has none
 * (design/VIEWER.md, "WebSocket relay"). The API answers the start with a one-time ticket for the
 * viewer's socket; the helper dials the same relay from its side. Frames (protocol/relay.ts) carry
 * H.264 access units, which WebCodecs' VideoDecoder turns into frames the video stage draws on a
 * canvas, and the same JSON messages the DataChannels carry, both ways.
 *
 * WebCodecs exists only in a secure context (https, or http on localhost/127.0.0.1). A relayed desktop
 * carries no sound, no file transfer and no chat.
 */
import {
  HEARTBEAT_INTERVAL_MS,
  parseDataChannelText,
  parseHelperToViewer,
  type ControlMessage,
  type HelperToViewer,
  type InputMessage,
} from '../protocol/datachannel.js';
import { decodeRelayFrame, encodeRelayAck, encodeRelayText } from '../protocol/relay.js';
import type { ApiClient } from './api-client.js';
import type {
  ConnectionEvents,
  ConnectionState,
  ConnectionTarget,
  DesktopConnection,
} from './desktop-connection.js';
import { sessionLimitLabel } from './labels.js';
import type { StatsEntry } from './stats.js';

/** What the status line says while a desktop goes this way. */
export const RELAY_STATUS = 'relayed over WebSocket';
/** Constrained baseline: what the helper encodes for a relayed viewer, and what every decoder takes. */
const CODEC = 'avc1.42e01f';
/** Frames waiting in the decoder before the viewer skips to the next keyframe instead of falling behind. */
const MAX_DECODE_QUEUE = 6;
/** As on the DataChannel: pointer moves are dropped, never queued, when the socket backs up. */
const MAX_BUFFERED_FOR_MOVES = 256 * 1024;

/** Whether this browser can show a relayed desktop (WebCodecs needs a secure context). */
export function canDecodeRelay(): boolean {
  return typeof VideoDecoder === 'function' && typeof EncodedVideoChunk === 'function';
}

/** The socket URL for a relay answer: its URL with the ticket, resolved against the API's base. */
export function relaySocketUrl(relay: { url: string; ticket: string }, base: string): string {
  const url = new URL(relay.url, base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  url.searchParams.set('ticket', relay.ticket);
  return url.toString();
}

export class RelayConnection implements DesktopConnection {
  state: ConnectionState = 'connecting';
  private socket: WebSocket | undefined;
  private decoder: VideoDecoder | undefined;
  private desktopId: string | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  /** Deltas are skipped until a keyframe: at the start, after a decoder error, after falling behind. */
  private needKeyframe = true;
  private readonly badMessagesLogged = new Set<string>();
  private cutByPolicy: string | undefined;
  private framesDecoded = 0;
  private framesSkipped = 0;

  constructor(
    private readonly api: ApiClient,
    private readonly target: ConnectionTarget,
    private readonly events: ConnectionEvents,
    /** What a relative relay URL resolves against; default: the API's base (or this page). */
    private readonly base: string = api.baseUrl,
  ) {}

  async start(): Promise<void> {
    if (!canDecodeRelay()) {
      throw new Error(
        'This browser cannot decode video without WebRTC (no WebCodecs; it needs https or localhost)',
      );
    }
    this.setState('connecting', RELAY_STATUS);
    const body: { targetSessionId?: number; displayIndex?: number } = {};
    if (this.target.targetSessionId !== undefined) body.targetSessionId = this.target.targetSessionId;
    if (this.target.displayIndex !== undefined) body.displayIndex = this.target.displayIndex;
    const reply = await this.api.startRelayedDesktop(this.target.deviceId, body);
    this.desktopId = reply.sessionId;
    if (this.stopped) {
      await this.stopOnDevice();
      return;
    }
    const socket = new WebSocket(relaySocketUrl(reply.relay, this.base));
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    try {
      await new Promise<void>((resolve, reject) => {
        socket.addEventListener('open', () => resolve(), { once: true });
        socket.addEventListener('error', () => reject(new Error('the relay refused the connection')), {
          once: true,
        });
      });
    } catch (err) {
      this.socket = undefined;
      await this.stopOnDevice();
      throw err;
    }
    if (this.stopped) return;
    socket.addEventListener('message', (ev: MessageEvent) => this.onMessage(ev.data));
    socket.addEventListener('close', (ev: CloseEvent) => this.onClose(ev.reason || `code ${ev.code}`));
    this.heartbeat = setInterval(() => this.sendControl({ type: 'heartbeat' }), HEARTBEAT_INTERVAL_MS);
    this.sendControl({ type: 'heartbeat' });
    this.setState('connected', RELAY_STATUS);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.teardown();
    this.setState('closed');
    await this.stopOnDevice();
  }

  sendInput(msg: InputMessage): void {
    const socket = this.socket;
    if (socket?.readyState !== WebSocket.OPEN) return;
    if (msg.type === 'pointer_move' && socket.bufferedAmount > MAX_BUFFERED_FOR_MOVES) return;
    socket.send(encodeRelayText('input', JSON.stringify(msg)));
  }

  sendControl(msg: ControlMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) {
      this.socket.send(encodeRelayText('control', JSON.stringify(msg)));
    }
  }

  sendChat(): boolean {
    return false;
  }

  stats(): Promise<Iterable<StatsEntry> | undefined> {
    return Promise.resolve(undefined);
  }

  /** Decoded and skipped frame counts, for tests and the console. */
  get frameCounts(): { decoded: number; skipped: number } {
    return { decoded: this.framesDecoded, skipped: this.framesSkipped };
  }

  private setState(state: ConnectionState, detail?: string): void {
    this.state = state;
    this.events.onState(state, detail);
  }

  private onMessage(data: unknown): void {
    if (!(data instanceof ArrayBuffer)) return;
    let frame;
    try {
      frame = decodeRelayFrame(new Uint8Array(data));
    } catch (err) {
      this.logOnce(`frame: ${(err as Error).message}`);
      return;
    }
    if (frame.type === 'video') {
      // The API hands this socket more only as fast as these receipts come back (API.md).
      this.socket?.send(encodeRelayAck(frame.timestampUs));
      return this.decode(frame.payload, frame.keyframe, frame.timestampUs);
    }
    if (frame.type !== 'control' && frame.type !== 'cursor') return;
    let msg: HelperToViewer;
    try {
      msg = parseDataChannelText(new TextDecoder().decode(frame.payload), parseHelperToViewer);
    } catch (err) {
      this.logOnce((err as Error).message);
      return;
    }
    if (msg.type === 'session_limit' && msg.remainingMs === 0)
      this.cutByPolicy = sessionLimitLabel(msg.reason);
    if (msg.type === 'ended') this.cutByPolicy = 'the person at the machine disconnected you';
    this.events.onHelperMessage(msg);
  }

  private decode(data: Uint8Array, keyframe: boolean, timestampUs: number): void {
    const decoder = this.ensureDecoder();
    if (decoder.decodeQueueSize > MAX_DECODE_QUEUE && !keyframe) {
      // Behind: skip to the next keyframe rather than show the desktop ever later.
      this.skipToKeyframe();
    }
    if (this.needKeyframe && !keyframe) {
      this.framesSkipped++;
      return;
    }
    this.needKeyframe = false;
    try {
      decoder.decode(
        new EncodedVideoChunk({ type: keyframe ? 'key' : 'delta', timestamp: timestampUs, data }),
      );
    } catch (err) {
      this.logOnce(`decode: ${(err as Error).message}`);
      this.resetDecoder();
    }
  }

  private ensureDecoder(): VideoDecoder {
    if (this.decoder && this.decoder.state !== 'closed') return this.decoder;
    const decoder = new VideoDecoder({
      output: (frame) => {
        if (this.decoder !== decoder || this.stopped) {
          frame.close();
          return;
        }
        this.framesDecoded++;
        if (this.events.onVideoFrame) this.events.onVideoFrame(frame);
        else frame.close();
      },
      error: (err) => {
        this.logOnce(`decoder: ${err.message}`);
        if (this.decoder === decoder) this.resetDecoder();
      },
    });
    // No `description`: the chunks are Annex B, with SPS/PPS in front of every keyframe.
    decoder.configure({ codec: CODEC, optimizeForLatency: true });
    this.decoder = decoder;
    return decoder;
  }

  private skipToKeyframe(): void {
    if (this.needKeyframe) return;
    this.needKeyframe = true;
    this.sendControl({ type: 'keyframe' });
  }

  private resetDecoder(): void {
    const old = this.decoder;
    this.decoder = undefined;
    if (old && old.state !== 'closed') old.close();
    this.needKeyframe = false;
    this.skipToKeyframe();
  }

  private onClose(reason: string): void {
    if (this.stopped) return;
    this.teardown();
    this.setState(
      'failed',
      this.cutByPolicy !== undefined
        ? `the remote machine ended the session: ${this.cutByPolicy}`
        : `the relay closed the connection (${reason})`,
    );
    void this.stopOnDevice();
  }

  private teardown(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000, 'viewer left');
    const decoder = this.decoder;
    this.decoder = undefined;
    if (decoder && decoder.state !== 'closed') decoder.close();
  }

  private async stopOnDevice(): Promise<void> {
    const id = this.desktopId;
    this.desktopId = undefined;
    if (id === undefined) return;
    try {
      await this.api.stopDesktop(this.target.deviceId, id);
    } catch {
      // The device may be gone already; nothing to undo.
    }
  }

  private logOnce(why: string): void {
    if (this.badMessagesLogged.has(why)) return;
    this.badMessagesLogged.add(why);
    console.warn('porthole: relay', why);
  }
}
