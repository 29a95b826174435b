/**
 * One desktop over WebRTC: offer with a receive-only H.264 transceiver and the three DataChannels,
 * non-trickle signaling through the API, helper messages validated, and reconnection after a drop.
 *
 * Reconnecting makes a new RTCPeerConnection and posts a new offer for the same OS session rather
 * than restarting ICE on the old one: the API has no renegotiation route, and the helper answers
 * every desktop request with a new peer (new DTLS certificate, new SCTP association), which an
 * existing browser peer connection cannot adopt.
 *
 * A network change (Wi-Fi → 4G: ICE `disconnected` for HANDOVER_AFTER_DISCONNECTED_MS, `failed`, or
 * nothing received for SILENCE_MS while ICE still says `connected`) of a connected desktop first
 * tries make-before-break (design/VIEWER.md, "Network change"): a second peer connection for the
 * SAME desktop (`POST …/desktop/:id/peer`, no consent, not a new viewer), whose video and channels
 * replace the old ones only once it connects; the old one is then closed without stopping the desktop. One move per connection: a move that fails (refused, or not connected within
 * HANDOVER_TIMEOUT_MS) ends in the reconnect path below, as a drop did before.
 */
import {
  DATA_CHANNELS,
  HEARTBEAT_INTERVAL_MS,
  parseDataChannelText,
  parseHelperToViewer,
  type ControlMessage,
  type HelperToViewer,
  type InputMessage,
} from '../protocol/datachannel.js';
import { ApiError, type ApiClient } from './api-client.js';
import { preferH264 } from './codec-preferences.js';
import type {
  ConnectionEvents,
  ConnectionState,
  ConnectionTarget,
  DesktopConnection,
} from './desktop-connection.js';
import {
  browserTimers,
  DISCONNECTED_GRACE_MS,
  IceDropWatch,
  isRetryableStatus,
  ReconnectBudget,
  retryDelayMs,
  SilenceWatch,
} from './reconnect-policy.js';
import type { StatsEntry } from './stats.js';
import { sessionLimitLabel } from './labels.js';
import { parseChatFromHelper, type ChatMessage } from '../protocol/chat.js';

/** No trickle ICE in the API: the offer must carry its candidates, but a slow STUN server must not stall us. */
const ICE_GATHERING_TIMEOUT_MS = 2000;
/** Pointer moves are dropped, never queued, when the input channel backs up: only the latest matters. */
const MAX_BUFFERED_FOR_MOVES = 256 * 1024;
/** `disconnected` this long before a move is tried: ICE often heals a blip by itself within a second. */
export const HANDOVER_AFTER_DISCONNECTED_MS = 1500;
/** From the start of a move (offer, answer, ICE, DTLS) to the new peer connection's `connected`. */
export const HANDOVER_TIMEOUT_MS = 15_000;

interface Peer {
  pc: RTCPeerConnection;
  channels: Record<'input' | 'control' | 'cursor' | 'files' | 'chat', RTCDataChannel>;
  /** The desktop it serves; closing a peer that owns it stops the desktop (a moving peer does not). */
  desktopId?: string;
  ownsDesktop: boolean;
  /** ICE reached `connected` once: only such a peer may move. */
  connected: boolean;
  /** A move from this peer was tried: never twice from one peer (no loop of attempts). */
  moveTried: boolean;
  /** What its tracks brought, given to the page when it becomes the current peer. */
  video?: MediaStream;
  audio?: MediaStream;
  watch: IceDropWatch;
  /** A path gone silent while ICE still says connected (a vanished local address). */
  silence: SilenceWatch;
  /** Tells the helper this viewer is alive; without it, it releases our keys after a few seconds. */
  heartbeat?: ReturnType<typeof setInterval>;
}

function waitForIceGathering(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', onChange);
      resolve();
    };
    const onChange = (): void => {
      if (pc.iceGatheringState === 'complete') finish();
    };
    const timer = setTimeout(finish, timeoutMs);
    pc.addEventListener('icegatheringstatechange', onChange);
  });
}

/**
 * The bytes received on the candidate pairs, whatever their state (media, RTCP, DataChannels), or
 * undefined when there is none: what SilenceWatch reads. STUN requests and answers do not count: after
 * the viewer's address moved, consent answers kept arriving on the dead pair for 30 s (the
 * network-change e2e test) while no media did, and counting them kept the move from starting.
 */
async function receivedCount(pc: RTCPeerConnection): Promise<number | undefined> {
  const report = await pc.getStats();
  let total: number | undefined;
  report.forEach((s: Record<string, unknown>) => {
    if (s.type !== 'candidate-pair') return;
    const n = (k: string): number => (typeof s[k] === 'number' ? s[k] : 0);
    total = (total ?? 0) + n('bytesReceived');
  });
  return total;
}

export class WebRtcConnection implements DesktopConnection {
  state: ConnectionState = 'connecting';
  private peer: Peer | undefined;
  private readonly budget = new ReconnectBudget();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private displayIndex: number | undefined;
  private readonly badMessagesLogged = new Set<string>();
  /**
   * The helper said it cuts this desktop by the machine's policy (`session_limit`, 0 ms left): the
   * drop that follows ends the connection instead of reconnecting around the limit.
   */
  private cutByPolicy: string | undefined;
  /** The person's Sound choice, said again to each new peer (which starts with sound on). */
  private audioWanted = true;
  /** A move under way: the new peer (once made) and its deadline. */
  private move: { from: Peer; to?: Peer; timer: ReturnType<typeof setTimeout> } | undefined;
  /** The device refused a move as unsupported (409 `agent_outdated`): drops reconnect at once. */
  private canMove = true;

  constructor(
    private readonly api: ApiClient,
    private readonly target: ConnectionTarget,
    private readonly events: ConnectionEvents,
  ) {
    this.displayIndex = target.displayIndex;
  }

  async start(): Promise<void> {
    if (typeof RTCPeerConnection !== 'function') {
      // WebKitGTK without its enable-webrtc setting (or built without WebRTC) lands here.
      throw new Error('This browser or window has WebRTC switched off, so it cannot show a desktop');
    }
    this.setState('connecting');
    try {
      await this.openPeer(false);
    } catch (err) {
      // A full session or a busy agent says when to try again: wait and retry, as after a drop.
      if (!(err instanceof ApiError && err.retryAfterMs !== undefined && isRetryableStatus(err.status)))
        throw err;
      this.scheduleRetry(err.message, err.retryAfterMs);
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const peer = this.peer;
    this.peer = undefined;
    this.setState('closed');
    this.endMove();
    if (peer) await this.closePeer(peer);
  }

  sendInput(msg: InputMessage): void {
    const channel = this.peer?.channels.input;
    if (!channel || channel.readyState !== 'open') return;
    if (msg.type === 'pointer_move' && channel.bufferedAmount > MAX_BUFFERED_FOR_MOVES) return;
    channel.send(JSON.stringify(msg));
  }

  sendControl(msg: ControlMessage): void {
    const channel = this.peer?.channels.control;
    if (channel?.readyState === 'open') channel.send(JSON.stringify(msg));
  }

  setAudioWanted(on: boolean): void {
    this.audioWanted = on;
    this.sendControl({ type: 'audio', state: on ? 'on' : 'off' });
  }

  sendChat(text: string): boolean {
    const channel = this.peer?.channels.chat;
    if (channel?.readyState !== 'open') return false;
    channel.send(JSON.stringify({ type: 'message', text } satisfies ChatMessage));
    return true;
  }

  async stats(): Promise<Iterable<StatsEntry> | undefined> {
    const report = await this.peer?.pc.getStats();
    return report ? (report.values() as Iterable<StatsEntry>) : undefined;
  }

  private setState(state: ConnectionState, detail?: string): void {
    this.state = state;
    this.events.onState(state, detail);
  }

  /** Builds a peer, posts its offer and applies the answer; a failure here throws to the caller. */
  private async openPeer(iceRestart: boolean): Promise<void> {
    const peer = await this.makePeer();
    this.peer = peer;
    try {
      const reply = await this.negotiate(peer, iceRestart, (offer) => {
        const body: { offer: string; targetSessionId?: number; displayIndex?: number } = { offer };
        if (this.target.targetSessionId !== undefined) body.targetSessionId = this.target.targetSessionId;
        if (this.displayIndex !== undefined) body.displayIndex = this.displayIndex;
        return this.api.startDesktop(this.target.deviceId, body);
      });
      peer.desktopId = reply.sessionId;
      peer.ownsDesktop = true;
      if (this.stopped || this.peer !== peer) {
        await this.closePeer(peer);
        return;
      }
      await peer.pc.setRemoteDescription({ type: 'answer', sdp: reply.answer });
    } catch (err) {
      if (this.peer === peer) this.peer = undefined;
      await this.closePeer(peer);
      throw err;
    }
  }

  /** Offers with the gathered candidates and returns what `post` got for it. */
  private async negotiate(
    peer: Peer,
    iceRestart: boolean,
    post: (offer: string) => Promise<{ sessionId: string; answer: string }>,
  ): Promise<{ sessionId: string; answer: string }> {
    const { pc } = peer;
    await pc.setLocalDescription(await pc.createOffer({ iceRestart }));
    await waitForIceGathering(pc, ICE_GATHERING_TIMEOUT_MS);
    const offer = pc.localDescription?.sdp;
    if (!offer) throw new Error('the browser produced no offer');
    return post(offer);
  }

  /** A peer connection with its transceivers, channels and listeners; not yet offered. */
  private async makePeer(): Promise<Peer> {
    const ice = await this.api.iceConfig();
    const pc = new RTCPeerConnection({
      iceServers: ice.iceServers,
      iceTransportPolicy: ice.iceTransportPolicy ?? 'all',
    });
    const transceiver = pc.addTransceiver('video', { direction: 'recvonly' });
    // The session's sound (Opus), on the same transport; the helper answers it inactive when the
    // machine's policy turns audio off.
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const codecs = RTCRtpReceiver.getCapabilities?.('video')?.codecs;
    if (codecs && typeof transceiver.setCodecPreferences === 'function') {
      try {
        transceiver.setCodecPreferences(preferH264(codecs));
      } catch {
        // Older engines reject some capability lists; the default order still offers H.264.
      }
    }
    const channels = {
      input: pc.createDataChannel(DATA_CHANNELS.input, { ordered: true }),
      control: pc.createDataChannel(DATA_CHANNELS.control, { ordered: true }),
      // Positions are superseded by the next one and shapes are idempotent by serial: no retransmits.
      cursor: pc.createDataChannel(DATA_CHANNELS.cursor, { ordered: false, maxRetransmits: 0 }),
      // File transfer: reliable and ordered (design/FILES.md).
      files: pc.createDataChannel(DATA_CHANNELS.files, { ordered: true }),
      // Chat with the person at the machine: reliable and ordered (protocol/chat.ts).
      chat: pc.createDataChannel(DATA_CHANNELS.chat, { ordered: true }),
    };
    const peer: Peer = {
      pc,
      channels,
      ownsDesktop: false,
      connected: false,
      moveTried: false,
      watch: this.dropWatch(() => peer, false),
      silence: new SilenceWatch(
        () => receivedCount(pc),
        (why) => this.onDrop(peer, why, true),
      ),
    };

    pc.addEventListener('track', (ev) => {
      // A remote desktop wants the newest frame, not smooth playback: ask for the smallest jitter
      // buffer the browser allows (Chromium's jitterBufferTarget; ignored where unsupported).
      const receiver = ev.receiver as RTCRtpReceiver & { jitterBufferTarget?: number | null };
      if (ev.track.kind === 'audio') {
        // Audio keeps the browser's adaptive jitter buffer: a gap is heard, a late frame is not seen.
        peer.audio = new MediaStream([ev.track]);
        if (this.peer === peer) this.events.onAudio?.(peer.audio);
        return;
      }
      if ('jitterBufferTarget' in receiver) receiver.jitterBufferTarget = 0;
      peer.video = ev.streams[0] ?? new MediaStream([ev.track]);
      if (this.peer === peer) this.events.onStream(peer.video);
    });
    pc.addEventListener('iceconnectionstatechange', () => {
      const ice = pc.iceConnectionState;
      const up = ice === 'connected' || ice === 'completed';
      if (this.move?.to === peer) {
        if (up) this.finishMove(peer);
        else if (ice === 'failed') this.failMove('the new connection failed');
        return;
      }
      if (this.peer !== peer) return;
      if (up && this.move?.from === peer) {
        // The old path healed by itself before the new one connected: keep it, drop the new one.
        this.endMove();
        peer.watch = this.dropWatch(() => peer, false);
      }
      if (up && !peer.connected) {
        // Connected once: from now on a drop may be a network change, worth a move.
        peer.watch.dispose();
        peer.watch = this.dropWatch(() => peer, true);
      }
      peer.watch.update(ice);
      if (up) {
        peer.connected = true;
        peer.silence.start();
        this.budget.reset();
        if (this.state !== 'connected') this.setState('connected');
      }
    });
    // The helper closing its peer (desktop stopped, helper restarting) closes the channels at once,
    // long before ICE notices the silence: treat it as a drop straight away.
    channels.control.addEventListener('close', () => {
      if (this.move?.to === peer) this.failMove('the helper closed the new connection');
      else this.onDrop(peer, 'the helper closed the connection', false);
    });
    channels.control.addEventListener('open', () => {
      const beat = JSON.stringify({ type: 'heartbeat' } satisfies ControlMessage);
      const send = (): void => {
        if (channels.control.readyState === 'open') channels.control.send(beat);
      };
      send();
      if (!this.audioWanted)
        channels.control.send(JSON.stringify({ type: 'audio', state: 'off' } satisfies ControlMessage));
      clearInterval(peer.heartbeat);
      peer.heartbeat = setInterval(send, HEARTBEAT_INTERVAL_MS);
    });
    channels.files.addEventListener('open', () => {
      if (this.peer === peer) this.events.onFilesChannel?.(channels.files);
    });
    channels.chat.addEventListener('message', (ev: MessageEvent) => this.onChatText(peer, ev.data));
    for (const channel of [channels.control, channels.cursor]) {
      channel.addEventListener('message', (ev: MessageEvent) => this.onHelperText(peer, ev.data));
    }
    return peer;
  }

  /**
   * `failed` at once; `disconnected` after HANDOVER_AFTER_DISCONNECTED_MS for a peer that may move (a
   * move is cheap to try and the old peer keeps running meanwhile), else after DISCONNECTED_GRACE_MS.
   */
  private dropWatch(peer: () => Peer, movable: boolean): IceDropWatch {
    const graceMs = movable && this.canMove ? HANDOVER_AFTER_DISCONNECTED_MS : DISCONNECTED_GRACE_MS;
    return new IceDropWatch((why) => this.onDrop(peer(), why, true), browserTimers, graceMs);
  }

  /**
   * Make-before-break after a network change: a second peer connection for the same desktop, which
   * replaces `from` only once it connects (finishMove); `from` keeps the picture until then.
   */
  private startMove(from: Peer, reason: string): void {
    from.moveTried = true;
    const desktopId = from.desktopId!;
    const timer = setTimeout(
      () => this.failMove(`the new connection did not connect within ${HANDOVER_TIMEOUT_MS / 1000} s`),
      HANDOVER_TIMEOUT_MS,
    );
    const move: NonNullable<typeof this.move> = { from, timer };
    this.move = move;
    this.setState('reconnecting', `${reason}: the network changed, moving to a new connection`);
    void (async () => {
      const to = await this.makePeer();
      if (this.move !== move) return to.pc.close();
      move.to = to;
      to.desktopId = desktopId;
      const reply = await this.negotiate(to, false, (offer) =>
        this.api.addPeer(this.target.deviceId, desktopId, offer),
      );
      if (this.move !== move) return;
      await to.pc.setRemoteDescription({ type: 'answer', sdp: reply.answer });
    })().catch((err: unknown) => {
      if (this.move !== move) return;
      // A device without the feature will not have it at the next drop either.
      if (err instanceof ApiError && err.status === 409) this.canMove = false;
      this.failMove(err instanceof Error ? err.message : String(err));
    });
  }

  /** The new peer connected: it becomes the desktop's peer, and the old one closes (desktop kept). */
  private finishMove(to: Peer): void {
    const move = this.move;
    if (!move || move.to !== to || this.stopped) return;
    this.move = undefined;
    clearTimeout(move.timer);
    const from = move.from;
    to.ownsDesktop = from.ownsDesktop;
    from.ownsDesktop = false;
    to.connected = true;
    to.watch.dispose();
    to.watch = this.dropWatch(() => to, true);
    to.silence.start();
    this.peer = to;
    void this.closePeer(from);
    if (to.video) this.events.onStream(to.video);
    if (to.audio) this.events.onAudio?.(to.audio);
    if (to.channels.files.readyState === 'open') this.events.onFilesChannel?.(to.channels.files);
    this.budget.reset();
    this.setState('connected');
  }

  /** The move did not make it: the old connection's drop takes the reconnect path. */
  private failMove(why: string): void {
    const move = this.move;
    if (!move) return;
    this.endMove();
    console.info('porthole: moving to a new connection failed, reconnecting:', why);
    this.onDrop(move.from, `could not move to a new connection (${why})`, false);
  }

  /** Forgets a move under way and closes its new peer (which never owns the desktop). */
  private endMove(): void {
    const move = this.move;
    if (!move) return;
    this.move = undefined;
    clearTimeout(move.timer);
    if (move.to) void this.closePeer(move.to);
  }

  private onHelperText(peer: Peer, data: unknown): void {
    if (this.peer !== peer) return;
    let msg: HelperToViewer;
    try {
      msg = parseDataChannelText(data, parseHelperToViewer);
    } catch (err) {
      // One console line per kind of problem: a misbehaving helper must not flood the console.
      const why = (err as Error).message;
      if (!this.badMessagesLogged.has(why)) {
        this.badMessagesLogged.add(why);
        console.warn('porthole: dropped a helper message', why);
      }
      return;
    }
    if (msg.type === 'displays') this.displayIndex = msg.current;
    if (msg.type === 'session_limit' && msg.remainingMs === 0)
      this.cutByPolicy = sessionLimitLabel(msg.reason);
    if (msg.type === 'ended') this.cutByPolicy = 'the person at the machine disconnected you';
    this.events.onHelperMessage(msg);
  }

  private onChatText(peer: Peer, data: unknown): void {
    if (this.peer !== peer) return;
    try {
      this.events.onChat?.(parseDataChannelText(data, parseChatFromHelper));
    } catch (err) {
      const why = `chat: ${(err as Error).message}`;
      if (!this.badMessagesLogged.has(why)) {
        this.badMessagesLogged.add(why);
        console.warn('porthole: dropped a helper message', why);
      }
    }
  }

  /** `viaIce`: ICE said it (a network change may be why); otherwise the helper or a move ended it. */
  private onDrop(peer: Peer, reason: string, viaIce: boolean): void {
    if (this.peer !== peer || this.stopped || this.move?.from === peer) return;
    const movable = viaIce && peer.connected && !peer.moveTried && peer.desktopId !== undefined;
    if (movable && this.canMove && this.cutByPolicy === undefined) return this.startMove(peer, reason);
    this.peer = undefined;
    void this.closePeer(peer);
    if (this.cutByPolicy !== undefined) {
      this.setState('failed', `the remote machine ended the session: ${this.cutByPolicy}`);
      return;
    }
    this.scheduleRetry(reason);
  }

  private scheduleRetry(reason: string, retryAfterMs?: number): void {
    const next = this.budget.next();
    if (!next) {
      this.setState('failed', `${reason}; gave up after ${this.budget.maxAttempts} attempts`);
      return;
    }
    const delayMs = retryDelayMs(next.delayMs, retryAfterMs);
    const when = `attempt ${next.attempt} of ${this.budget.maxAttempts} in ${Math.ceil(delayMs / 1000)} s`;
    this.setState('reconnecting', `${reason}; ${when}`);
    this.retryTimer = setTimeout(() => {
      if (this.stopped) return;
      this.openPeer(true).catch((err: unknown) => {
        if (this.stopped) return;
        // A refusal that will not change by waiting (bad request, no such session) ends the retries.
        if (err instanceof ApiError && !isRetryableStatus(err.status)) {
          this.setState('failed', err.message);
          return;
        }
        this.scheduleRetry(
          err instanceof Error ? err.message : String(err),
          err instanceof ApiError ? err.retryAfterMs : undefined,
        );
      });
    }, delayMs);
  }

  /** Closes the browser side and, if it owns the desktop, tells the API to stop it; never throws. */
  private async closePeer(peer: Peer): Promise<void> {
    peer.watch.dispose();
    peer.silence.dispose();
    clearInterval(peer.heartbeat);
    peer.pc.close();
    if (peer.desktopId === undefined || !peer.ownsDesktop) return;
    try {
      await this.api.stopDesktop(this.target.deviceId, peer.desktopId);
    } catch {
      // The device may be gone already (which is often why we are here); nothing to undo.
    }
  }
}
