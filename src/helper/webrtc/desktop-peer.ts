/**
 * The helper's side of one viewer connection: answers the viewer's offer with a sendonly H.264 track
 * and serves the DataChannels the viewer created (see design/WEBRTC-INPUT.md for the layout).
 *
 * Every native wrapper (PeerConnection, Track, DataChannel, media handlers) is held in `natives` until
 * close(): node-datachannel closes a native object when its wrapper is garbage collected, which would
 * stop the video or a channel mid-session.
 */
import nodeDataChannel from 'node-datachannel';
import type { DataChannel, PeerConnection } from 'node-datachannel';
import type { IceServer } from '../../protocol/common.js';
import {
  DATA_CHANNELS,
  type ControlMessage,
  type HelperToViewer,
  type InputMessage,
} from '../../protocol/datachannel.js';
import { chooseH264 } from './h264-offer.js';
import { addH264Track, H264_CLOCK_RATE } from './h264-track.js';
import type { VideoSenderStats } from './rtp/video-sender.js';
import { audioSections, chooseOpus } from './opus-offer.js';
import { addInactiveAudio, addOpusTrack, type OpusTrack } from './opus-track.js';
import { toLibdatachannelIceServers } from './libdatachannel-ice.js';
import { startTurnFixupRelay } from './turn-fixup-relay.js';
import { icePassword } from './zero-tiebreaker.js';
import { Listeners } from './listeners.js';
import { type InputLimits } from './input-gate.js';
import { createMessageGate, type GateCounters, type RateLimit } from './message-gate.js';
import { createVideoFeedback, type KeyframeReason, type VideoReceiverStats } from './video-feedback.js';
import { FILE_BUFFER_LOW } from '../../protocol/files.js';
import { parseChatMessage, type ChatFromHelper, type ChatMessage } from '../../protocol/chat.js';
import type { FilesChannel } from '../files/file-transfers.js';
import { type Logger } from '../../log/logger.js';
import { realTimers, type Timers } from '../../time/timers.js';
import { createViewerGates } from './viewer-gates.js';

export type PeerState = 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';
export type ChannelLabel = (typeof DATA_CHANNELS)[keyof typeof DATA_CHANNELS];
export type CursorMessage = Extract<HelperToViewer, { type: 'cursor' | 'cursor_shape' }>;

export interface DesktopPeerOptions {
  /** The viewer's SDP offer (already validated as SDP by the protocol layer). */
  offer: string;
  iceServers: readonly IceServer[];
  log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  /** How long to wait for ICE gathering before answering with the candidates found so far. */
  gatherTimeoutMs?: number;
  /** Limits per input message type (input-gate.ts has the defaults). */
  inputLimits?: Partial<InputLimits>;
  /** Limits of control messages: per type, `default` for the types without one of their own. */
  controlLimits?: { default: RateLimit } & Partial<Record<ControlMessage['type'], RateLimit>>;
  keyframeMinIntervalMs?: number;
  /** Chat messages from the viewer: a person typing (default 1 a second, bursts of 5). */
  chatLimit?: RateLimit;
  /** The clock and timers of the message limits and the keyframe request spacing; tests pass their own. */
  timers?: Timers;
  /**
   * Whether this viewer may open a channel (channel-permissions.ts); a refused channel is closed
   * before its first message is read. Default: every channel.
   */
  allowChannel?: (label: ChannelLabel) => boolean;
  /**
   * Whether this desktop may carry the session's sound (the service's `audio` policy). When it may
   * and the offer has an audio section with Opus, the answer sends an Opus track on it; otherwise
   * that section is answered inactive. Default: true.
   */
  audio?: boolean;
}

/** The `files` channel as the file transfers use it: sending with back-pressure, and what arrives. */
export interface FilesChannelEnd extends FilesChannel {
  onText(cb: (text: string) => void): void;
  onBinary(cb: (bytes: Buffer) => void): void;
  onClosed?(cb: () => void): void;
}

export interface DesktopPeer {
  /**
   * Sends one Annex-B H.264 access unit; the timestamp is the capture time in µs (any epoch), the
   * bitrate what its encoder ran at (the sender paces by it).
   */
  sendVideo(accessUnit: Buffer, timestampUs: number, bitrate?: number): boolean;
  /** Video bytes as they leave for the viewer, retransmissions included: what the bitrate controller weighs. */
  onVideoSent?(cb: (bytes: number, nowMs: number) => void): () => void;
  /** The video sender's counters (frames, packets, NACKs answered, overflows). */
  readonly videoSenderStats?: VideoSenderStats;
  /** Whether the answer carries an audio track (the viewer offered one and audio is allowed). */
  readonly hasAudio: boolean;
  /** Sends one 20 ms Opus packet; the timestamp is the capture time of its first sample in µs. */
  sendAudio(packet: Buffer, timestampUs: number): boolean;
  onKeyframeRequest(cb: (reason: KeyframeReason) => void): () => void;
  onReceiverStats(cb: (stats: VideoReceiverStats) => void): () => void;
  /** The latest reception statistics from the viewer, if any arrived. */
  readonly receiverStats: VideoReceiverStats | undefined;
  onInput(cb: (msg: InputMessage) => void): () => void;
  /**
   * Input from the viewer was dropped while it held keys or buttons: release them all (the viewer's
   * own releases of them may have been among what was dropped).
   */
  onReleaseInput(cb: () => void): () => void;
  onControl(cb: (msg: ControlMessage) => void): () => void;
  /** A DataChannel opened or closed (the input channel closing must release held keys). */
  onChannel(cb: (label: ChannelLabel, open: boolean) => void): () => void;
  /** The viewer opened its `files` channel (and was allowed to). */
  onFilesChannel(cb: (channel: FilesChannelEnd) => void): () => void;
  /** A chat line from the viewer (validated, within its rate limit). */
  onChat(cb: (msg: ChatMessage) => void): () => void;
  /** Sends on the viewer's `chat` channel; false when it is not open. */
  sendChat(msg: ChatFromHelper): boolean;
  /** Whether the viewer's channel of that label is open now. */
  isChannelOpen(label: ChannelLabel): boolean;
  sendControl(msg: HelperToViewer): boolean;
  sendCursor(msg: CursorMessage): boolean;
  onState(cb: (state: PeerState) => void): () => void;
  readonly state: PeerState;
  /** What the viewer sent on the input and control channels: accepted, invalid, over a limit, coalesced. */
  readonly messageCounts: Readonly<Record<'input' | 'control', Readonly<GateCounters>>>;
  close(): void;
}

/** Long enough for STUN and TURN allocations on a slow path; an unreachable server costs this much. */
const DEFAULT_GATHER_TIMEOUT_MS = 3000;
const DEFAULT_KEYFRAME_MIN_INTERVAL_MS = 250;
export const DEFAULT_CHAT_LIMIT: RateLimit = { perSecond: 1, burst: 5 };
/** A viewer over its chat limit hears so at most this often (a flood must not make the helper flood back). */
const CHAT_DROP_NOTICE_MS = 10_000;

/** Answers the offer. Rejects (and frees everything) if the offer cannot be answered. */
export async function createDesktopPeer(
  opts: DesktopPeerOptions,
): Promise<{ answer: string; peer: DesktopPeer }> {
  const { log } = opts;
  const choice = chooseH264(opts.offer);
  const iceServers = toLibdatachannelIceServers(opts.iceServers, log);
  // This connection's ICE password, for the TURN fix-up relay (turn-fixup-relay.ts); known once the
  // answer exists, which is before the viewer can send a check signed with it.
  let localIcePassword: string | undefined;
  const turnFixup = iceServers.some((s) => s.username !== undefined)
    ? await startTurnFixupRelay(iceServers, { password: () => localIcePassword, log })
    : undefined;
  let pc: PeerConnection;
  try {
    pc = new nodeDataChannel.PeerConnection('porthole-helper', {
      iceServers: turnFixup?.servers ?? iceServers,
      disableAutoNegotiation: true,
    });
  } catch (err) {
    turnFixup?.close();
    throw err;
  }
  const closePc = (): void => {
    pc.close();
    turnFixup?.close();
  };
  const natives: object[] = [pc];
  const channels = new Map<ChannelLabel, DataChannel>();
  let state: PeerState = 'connecting';

  const keyframeListeners = new Listeners<[KeyframeReason]>('keyframe', log);
  const statsListeners = new Listeners<[VideoReceiverStats]>('receiver_stats', log);
  const sentListeners = new Listeners<[number, number]>('video_sent', log);
  const inputListeners = new Listeners<[InputMessage]>('input', log);
  const releaseListeners = new Listeners<[]>('release_input', log);
  const controlListeners = new Listeners<[ControlMessage]>('control', log);
  const channelListeners = new Listeners<[ChannelLabel, boolean]>('channel', log);
  const filesListeners = new Listeners<[FilesChannelEnd]>('files', log);
  const chatListeners = new Listeners<[ChatMessage]>('chat', log);
  /** The open `files` channel, handed to a listener that subscribes after it opened. */
  let filesEnd: FilesChannelEnd | undefined;
  const stateListeners = new Listeners<[PeerState]>('state', log);

  const setState = (next: PeerState): void => {
    if (state === next || state === 'closed') return;
    state = next;
    log.info({ state }, 'peer state');
    stateListeners.emit(next);
  };

  const timers = opts.timers ?? realTimers;
  const { input: inputGate, control: controlGate } = createViewerGates({
    log,
    timers,
    inputLimits: opts.inputLimits,
    ...(opts.controlLimits ? { controlLimits: opts.controlLimits } : {}),
    onInput: (msg) => inputListeners.emit(msg),
    onReleaseAll: () => releaseListeners.emit(),
  });
  const chatLimit = opts.chatLimit ?? DEFAULT_CHAT_LIMIT;
  const chatGate = createMessageGate({
    log,
    channel: 'chat',
    parse: parseChatMessage,
    limits: { default: chatLimit },
    now: timers.now,
  });
  let chatDropNoticeAt: number | undefined;
  const receiveChat = (raw: unknown): void => {
    const msg = chatGate.parse(raw);
    if (!msg) return;
    if (!chatGate.take(msg.type)) {
      chatGate.reject(msg.type);
      const t = timers.now();
      if (chatDropNoticeAt === undefined || t - chatDropNoticeAt >= CHAT_DROP_NOTICE_MS) {
        chatDropNoticeAt = t;
        sendText('chat', {
          type: 'error',
          code: 'rate_limited',
          message: `chat messages were dropped: at most ${chatLimit.perSecond} a second`,
        });
      }
      return;
    }
    chatGate.counters.accepted++;
    chatListeners.emit(msg);
  };

  // `cursor` only carries helper → viewer messages: anything the viewer sends on it is ignored.
  function serveChannel(dc: DataChannel): void {
    natives.push(dc);
    const label = dc.getLabel();
    const known = (Object.values(DATA_CHANNELS) as string[]).includes(label);
    if (!known || channels.has(label as ChannelLabel)) {
      log.warn({ label: label.slice(0, 64), duplicate: known }, 'unexpected DataChannel closed');
      dc.close();
      return;
    }
    const name = label as ChannelLabel;
    if (opts.allowChannel && !opts.allowChannel(name)) {
      log.warn({ label: name }, 'DataChannel refused for this viewer');
      dc.close();
      return;
    }
    channels.set(name, dc);
    let files: { text?: (t: string) => void; binary?: (b: Buffer) => void; closed?: () => void } | undefined;
    if (name === 'files') {
      files = {};
      const end = filesChannelEnd(dc, files, log);
      dc.onMessage((raw) => {
        if (typeof raw === 'string') files?.text?.(raw);
        else files?.binary?.(Buffer.isBuffer(raw) ? raw : Buffer.from(raw));
      });
      dc.onClosed(() => {
        if (channels.get(name) === dc) channels.delete(name);
        if (filesEnd === end) filesEnd = undefined;
        channelListeners.emit(name, false);
        files?.closed?.();
      });
      dc.onError((err) => log.warn({ label: name, err }, 'DataChannel error'));
      filesEnd = end;
      channelListeners.emit(name, true);
      filesListeners.emit(end);
      return;
    }
    dc.onMessage((raw) => {
      if (name === 'input') {
        inputGate.receive(raw);
      } else if (name === 'control') {
        const msg = controlGate.admit(raw);
        if (msg) controlListeners.emit(msg);
      } else if (name === 'chat') {
        receiveChat(raw);
      }
    });
    dc.onClosed(() => {
      if (channels.get(name) === dc) channels.delete(name);
      channelListeners.emit(name, false);
    });
    dc.onError((err) => log.warn({ label: name, err }, 'DataChannel error'));
    // Channels announced by the viewer arrive open.
    channelListeners.emit(name, true);
  }

  pc.onDataChannel(serveChannel);
  // The offer's video section makes libdatachannel create the track itself; addTrack() below returns
  // the same native track, and this wrapper must be kept alive too.
  pc.onTrack((t) => natives.push(t));
  pc.onStateChange((s) => {
    if (s === 'connected' || s === 'disconnected' || s === 'failed' || s === 'closed') setState(s);
  });

  let video: ReturnType<typeof addH264Track>;
  let audio: OpusTrack | undefined;
  try {
    pc.setRemoteDescription(opts.offer, 'offer');
    video = addH264Track(pc, choice, {
      cname: 'porthole',
      timers,
      // The sender dropped frames from its queue and skips to the next keyframe.
      onKeyframeNeeded: () => keyframeListeners.emit('congestion'),
      onSent: (bytes, nowMs) => sentListeners.emit(bytes, nowMs),
    });
    natives.push(...video.natives);
    audio = answerAudio(pc, opts.offer, opts.audio ?? true, natives);
  } catch (err) {
    closePc();
    throw err;
  }

  const feedback = createVideoFeedback({
    ssrc: video.ssrc,
    clockRate: H264_CLOCK_RATE,
    keyframeMinIntervalMs: opts.keyframeMinIntervalMs ?? DEFAULT_KEYFRAME_MIN_INTERVAL_MS,
    onKeyframeRequest: (reason) => keyframeListeners.emit(reason),
    onStats: (stats) => statsListeners.emit(stats),
    onNack: (sequences) => video.sender.onNack(sequences, feedback.stats?.rttMs),
    now: timers.now,
  });
  video.track.onMessage((packet) => feedback.handle(packet));

  const gathered = new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      log.warn(
        { timeoutMs: opts.gatherTimeoutMs },
        'ICE gathering not complete; answering with what we have',
      );
      resolve();
    }, opts.gatherTimeoutMs ?? DEFAULT_GATHER_TIMEOUT_MS);
    pc.onGatheringStateChange((s) => {
      if (s === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  pc.setLocalDescription();
  localIcePassword = icePassword(pc.localDescription()?.sdp ?? '');
  if (pc.gatheringState() !== 'complete') await gathered;
  const answer = pc.localDescription()?.sdp;
  if (!answer) {
    closePc();
    throw new Error('libdatachannel produced no answer');
  }
  localIcePassword ??= icePassword(answer);

  function sendText(label: ChannelLabel, msg: HelperToViewer | ChatFromHelper): boolean {
    const dc = channels.get(label);
    if (!dc?.isOpen()) return false;
    const text = JSON.stringify(msg);
    if (Buffer.byteLength(text) > dc.maxMessageSize()) {
      log.warn(
        { label, type: msg.type, bytes: Buffer.byteLength(text) },
        'message larger than the channel allows',
      );
      return false;
    }
    try {
      return dc.sendMessage(text);
    } catch (err) {
      log.warn({ label, err: String(err) }, 'DataChannel send failed');
      return false;
    }
  }

  let tornDown = false;
  const peer: DesktopPeer = {
    sendVideo(accessUnit, timestampUs, bitrate) {
      if (state === 'closed') return false;
      try {
        return video.sender.send(accessUnit, timestampUs, bitrate);
      } catch (err) {
        log.warn({ err: String(err) }, 'video send failed');
        return false;
      }
    },
    hasAudio: audio !== undefined,
    sendAudio(packet, timestampUs) {
      if (state === 'closed' || !audio) return false;
      try {
        return audio.send(packet, timestampUs);
      } catch (err) {
        log.warn({ err: String(err) }, 'audio send failed');
        return false;
      }
    },
    onKeyframeRequest: (cb) => keyframeListeners.add(cb),
    onReceiverStats: (cb) => statsListeners.add(cb),
    onVideoSent: (cb) => sentListeners.add(cb),
    get videoSenderStats() {
      return video.sender.stats;
    },
    get receiverStats() {
      return feedback.stats;
    },
    onInput: (cb) => inputListeners.add(cb),
    onReleaseInput: (cb) => releaseListeners.add(cb),
    onControl: (cb) => controlListeners.add(cb),
    onChannel: (cb) => channelListeners.add(cb),
    onFilesChannel: (cb) => {
      const off = filesListeners.add(cb);
      if (filesEnd) cb(filesEnd);
      return off;
    },
    onChat: (cb) => chatListeners.add(cb),
    sendChat: (msg) => sendText('chat', msg),
    isChannelOpen: (label) => channels.get(label)?.isOpen() ?? false,
    sendControl: (msg) => sendText('control', msg),
    sendCursor: (msg) => sendText('cursor', msg),
    onState: (cb) => stateListeners.add(cb),
    get state() {
      return state;
    },
    messageCounts: { input: inputGate.counters, control: controlGate.counters },
    close() {
      // Not `state`: the connection can report itself closed first, and its resources still need freeing.
      if (tornDown) return;
      tornDown = true;
      inputGate.close();
      for (const dc of channels.values()) dc.close();
      // What the network did to this connection, for whoever reads the log after a bad session.
      log.info({ video: video.sender.stats }, 'video sender totals');
      video.sender.close();
      video.track.close();
      audio?.track.close();
      closePc();
      setState('closed');
      for (const l of [keyframeListeners, statsListeners, inputListeners, controlListeners, channelListeners])
        l.clear();
      sentListeners.clear();
      filesListeners.clear();
      chatListeners.clear();
      releaseListeners.clear();
      stateListeners.clear();
      natives.length = 0;
    },
  };
  return { answer, peer };
}

/**
 * The offer's audio sections: the first receivable one with Opus gets the session's sound when audio is
 * allowed; every other one is answered inactive (libdatachannel would otherwise answer it with a
 * track that never sends).
 */
function answerAudio(
  pc: PeerConnection,
  offer: string,
  allowed: boolean,
  natives: object[],
): OpusTrack | undefined {
  const chosen = allowed ? chooseOpus(offer) : undefined;
  let track: OpusTrack | undefined;
  for (const section of audioSections(offer)) {
    if (chosen && section.mid === chosen.mid) {
      track = addOpusTrack(pc, chosen, 'porthole');
      natives.push(...track.natives);
    } else {
      natives.push(...addInactiveAudio(pc, section.mid, section.payloadType));
    }
  }
  return track;
}

/** node-datachannel's DataChannel as a FilesChannelEnd; a send that throws (channel closing) is a refusal. */
function filesChannelEnd(
  dc: DataChannel,
  receive: { text?: (t: string) => void; binary?: (b: Buffer) => void; closed?: () => void },
  log: Pick<Logger, 'warn'>,
): FilesChannelEnd {
  dc.setBufferedAmountLowThreshold(FILE_BUFFER_LOW);
  // libdatachannel's send() answers false when it buffered the message rather than sending it at once:
  // that is back-pressure (bufferedAmount), not a refusal. Only a closed channel or a throw refuses.
  const guard = (send: () => boolean): boolean => {
    try {
      if (!dc.isOpen()) return false;
      send();
      return true;
    } catch (err) {
      log.warn({ label: 'files', err: String(err) }, 'DataChannel send failed');
      return false;
    }
  };
  return {
    sendText: (text) => guard(() => dc.sendMessage(text)),
    sendBinary: (data) => guard(() => dc.sendMessageBinary(data)),
    bufferedAmount: () => {
      try {
        return dc.bufferedAmount();
      } catch {
        return 0;
      }
    },
    onBufferedLow: (cb) => dc.onBufferedAmountLow(cb),
    onText: (cb) => (receive.text = cb),
    onBinary: (cb) => (receive.binary = cb),
    onClosed: (cb) => (receive.closed = cb),
  };
}
