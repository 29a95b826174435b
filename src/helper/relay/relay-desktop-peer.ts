/**
 * A DesktopPeer over the API's WebSocket relay (protocol/relay.ts, design/MEDIA.md "WebSocket relay"),
 * for a viewer that WebRTC cannot reach or that has no RTCPeerConnection. The helper dials out to the
 * API (so no inbound port is needed), presents its one-time ticket, and from then on the socket stands
 * in for the peer connection: video frames carry the same access units the H.264 track would, and what
 * the viewer sends passes through the same gates as its DataChannels (input-gate.ts, message-gate.ts).
 *
 * The API tells the helper when the viewer's socket is paired with a text message; binary messages
 * are relay frames. The socket closing, for whatever reason, closes the peer and everything the host
 * attached to it. The `files` and `chat` channels and sound are not carried over the relay.
 *
 * The helper asks the API for the viewer's acks (`acks=1`): with the frames it sent they make the
 * receiver statistics the bitrate controller adapts this viewer's stream by (relay-delivery-feedback.ts).
 */
import WebSocket from 'ws';
import type { ControlMessage, InputMessage } from '../../protocol/datachannel.js';
import {
  decodeRelayFrame,
  encodeRelayFrame,
  encodeRelayText,
  MAX_RELAY_FRAME_BYTES,
  RelayFrameError,
  type RelayTarget,
} from '../../protocol/relay.js';
import type { Logger } from '../../log/logger.js';
import { realTimers, type TimerHandle, type Timers } from '../../time/timers.js';
import type { ChannelLabel, DesktopPeer, PeerState } from '../webrtc/desktop-peer.js';
import type { InputLimits } from '../webrtc/input-gate.js';
import type { RateLimit } from '../webrtc/message-gate.js';
import { Listeners } from '../webrtc/listeners.js';
import type { KeyframeReason, VideoReceiverStats } from '../webrtc/video-feedback.js';
import { isIdrAccessUnit } from '../encode/annexb.js';
import { createViewerGates } from '../webrtc/viewer-gates.js';
import { RelayDeliveryFeedback } from './relay-delivery-feedback.js';

/** What the API sends the helper as text (everything else is binary relay frames). */
export const RELAY_PAIRED_MESSAGE = 'paired';

/**
 * Unsent bytes the helper lets pile up in its socket before it stops sending video: past this it
 * drops access units until the next keyframe (and asks for one), so a slow uplink costs frames, not
 * seconds of latency. About a second of a 4 Mb/s stream.
 */
export const DEFAULT_RELAY_SEND_BUFFER_BYTES = 512 * 1024;
/** From the socket's start to the API's answer: the ticket expires long before. */
export const RELAY_CONNECT_TIMEOUT_MS = 10_000;

export interface RelayDesktopPeerOptions {
  relay: RelayTarget;
  log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  inputLimits?: Partial<InputLimits>;
  controlLimits?: { default: RateLimit } & Partial<Record<ControlMessage['type'], RateLimit>>;
  /** Which channels this viewer may use (channel-permissions.ts); a refused one's frames are dropped. */
  allowChannel?: (label: ChannelLabel) => boolean;
  sendBufferBytes?: number;
  timers?: Timers;
  /** Extra options for the socket (tests: a CA); the ticket is always added to the URL here. */
  socketOptions?: WebSocket.ClientOptions;
}

/** Opens the socket and resolves once the API accepted the ticket; rejects (and frees it) otherwise. */
export async function createRelayDesktopPeer(opts: RelayDesktopPeerOptions): Promise<DesktopPeer> {
  const { log } = opts;
  const timers = opts.timers ?? realTimers;
  const url = new URL(opts.relay.url);
  url.searchParams.set('ticket', opts.relay.ticket);
  // The viewer's acks passed on: what the bitrate controller learns the path from (an API that does
  // not know the parameter ignores it, and the stream then keeps its rate).
  url.searchParams.set('acks', '1');
  const ws = new WebSocket(url, {
    maxPayload: MAX_RELAY_FRAME_BYTES,
    perMessageDeflate: false,
    handshakeTimeout: RELAY_CONNECT_TIMEOUT_MS,
    ...opts.socketOptions,
  });
  ws.binaryType = 'nodebuffer';
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error): void => {
      ws.off('open', resolve);
      ws.terminate();
      reject(err);
    };
    ws.once('open', () => {
      ws.off('error', fail);
      ws.off('unexpected-response', refused);
      resolve();
    });
    ws.once('error', fail);
    const refused = (_req: unknown, res: { statusCode?: number }): void =>
      fail(new Error(`the relay refused the helper's socket (HTTP ${res.statusCode ?? '?'})`));
    ws.once('unexpected-response', refused);
  });

  let state: PeerState = 'connecting';
  let paired = false;
  const keyframeListeners = new Listeners<[KeyframeReason]>('keyframe', log);
  const statsListeners = new Listeners<[VideoReceiverStats]>('receiver_stats', log);
  const inputListeners = new Listeners<[InputMessage]>('input', log);
  const releaseListeners = new Listeners<[]>('release_input', log);
  const controlListeners = new Listeners<[ControlMessage]>('control', log);
  const channelListeners = new Listeners<[ChannelLabel, boolean]>('channel', log);
  const stateListeners = new Listeners<[PeerState]>('state', log);
  const sentListeners = new Listeners<[number, number]>('video_sent', log);
  const delivery = new RelayDeliveryFeedback();
  const allowed = (label: ChannelLabel): boolean => opts.allowChannel?.(label) ?? true;
  /** The channels the relay stands in for; `files` and `chat` are not carried. */
  const carried: ChannelLabel[] = ['input', 'control', 'cursor'];

  const setState = (next: PeerState): void => {
    if (state === next || state === 'closed') return;
    state = next;
    log.info({ state, transport: 'websocket' }, 'peer state');
    stateListeners.emit(next);
  };

  // The same doors as the DataChannels' (viewer-gates.ts).
  const { input: inputGate, control: controlGate } = createViewerGates({
    log,
    timers,
    inputLimits: opts.inputLimits,
    ...(opts.controlLimits ? { controlLimits: opts.controlLimits } : {}),
    onInput: (msg) => inputListeners.emit(msg),
    onReleaseAll: () => releaseListeners.emit(),
  });
  let badFrames = 0;
  const decoder = new TextDecoder('utf-8', { fatal: true });

  const sendBufferBytes = opts.sendBufferBytes ?? DEFAULT_RELAY_SEND_BUFFER_BYTES;
  let awaitingKeyframe = false;
  let keyframeAskedAt: number | undefined;
  const askKeyframe = (): void => {
    const t = timers.now();
    // At most every 250 ms, as for PLIs: a congested uplink must not become a keyframe storm.
    if (keyframeAskedAt !== undefined && t - keyframeAskedAt < 250) return;
    keyframeAskedAt = t;
    keyframeListeners.emit('pli');
  };

  const send = (frame: Uint8Array): boolean => {
    if (state !== 'connected' || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(frame, { binary: true });
    return true;
  };
  const sendText = (label: 'control' | 'cursor', msg: object): boolean => {
    if (!allowed(label)) return false;
    return send(encodeRelayText(label, JSON.stringify(msg)));
  };

  let closeTimer: TimerHandle | undefined;
  const finish = (): void => {
    if (state === 'closed') return;
    inputGate.close();
    if (paired) for (const label of carried) if (allowed(label)) channelListeners.emit(label, false);
    setState('closed');
    timers.clearTimeout(closeTimer);
    for (const l of [keyframeListeners, statsListeners, inputListeners, controlListeners, channelListeners])
      l.clear();
    sentListeners.clear();
    releaseListeners.clear();
    stateListeners.clear();
    ws.removeAllListeners('message');
  };

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) {
      if (!paired && data.toString('utf8') === RELAY_PAIRED_MESSAGE) {
        paired = true;
        setState('connected');
        for (const label of carried) if (allowed(label)) channelListeners.emit(label, true);
        askKeyframe();
      }
      return;
    }
    if (!paired) return;
    let text: string;
    let type: string;
    try {
      const frame = decodeRelayFrame(data);
      type = frame.type;
      if (type === 'ack') {
        const stats = delivery.onAck(frame.timestampUs, timers.now());
        if (stats) statsListeners.emit(stats);
        return;
      }
      if (type !== 'input' && type !== 'control')
        throw new RelayFrameError('type', `a viewer sends no ${type}`);
      text = decoder.decode(frame.payload);
    } catch (err) {
      // Counted, logged once in a while: a broken viewer must not flood the log.
      if (badFrames++ % 100 === 0)
        log.warn({ err: String(err), badFrames }, 'malformed relay frame from the viewer dropped');
      return;
    }
    if (type === 'input') {
      if (allowed('input')) inputGate.receive(text);
    } else if (allowed('control')) {
      const msg = controlGate.admit(text);
      if (msg) controlListeners.emit(msg);
    }
  });
  ws.on('error', (err) => log.warn({ err: err.message }, 'relay socket error'));
  ws.on('close', (code) => {
    log.info({ code }, 'relay socket closed');
    finish();
  });

  const peer: DesktopPeer = {
    sendVideo(accessUnit, timestampUs) {
      if (state !== 'connected') return false;
      const keyframe = isIdrAccessUnit(accessUnit);
      if (awaitingKeyframe && !keyframe) return false;
      if (ws.bufferedAmount > sendBufferBytes) {
        awaitingKeyframe = true;
        askKeyframe();
        return false;
      }
      awaitingKeyframe = false;
      const at = Math.max(0, timestampUs);
      const frame = encodeRelayFrame({ type: 'video', keyframe, timestampUs: at }, accessUnit);
      if (!send(frame)) return false;
      const now = timers.now();
      delivery.onSent(at, frame.byteLength, now);
      sentListeners.emit(frame.byteLength, now);
      return true;
    },
    onVideoSent: (cb) => sentListeners.add(cb),
    hasAudio: false,
    sendAudio: () => false,
    onKeyframeRequest: (cb) => keyframeListeners.add(cb),
    onReceiverStats: (cb) => statsListeners.add(cb),
    get receiverStats() {
      return delivery.stats;
    },
    onInput: (cb) => inputListeners.add(cb),
    onReleaseInput: (cb) => releaseListeners.add(cb),
    onControl: (cb) => controlListeners.add(cb),
    onChannel: (cb) => channelListeners.add(cb),
    onFilesChannel: () => () => {},
    onChat: () => () => {},
    sendChat: () => false,
    isChannelOpen: (label) => state === 'connected' && carried.includes(label) && allowed(label),
    sendControl: (msg) => sendText('control', msg),
    sendCursor: (msg) => sendText('cursor', msg),
    onState: (cb) => stateListeners.add(cb),
    get state() {
      return state;
    },
    messageCounts: { input: inputGate.counters, control: controlGate.counters },
    close() {
      if (state === 'closed') return;
      finish();
      ws.close(1000, 'desktop closed');
      // A peer that never answers the close handshake is cut: nothing of this desktop may linger.
      closeTimer = timers.setTimeout(() => ws.terminate(), 2000);
      closeTimer.unref();
    },
  };
  return peer;
}
