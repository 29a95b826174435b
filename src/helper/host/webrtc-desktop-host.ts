/**
 * Each desktop connection of the helper: its peer and the media attached to it, and the limits that
 * keep one viewer, or many abandoned offers, from locking the others out:
 *
 * - at most `maxConnections` (8) desktops, counted from the moment a start is accepted, before any
 *   await, so concurrent starts cannot overshoot; beyond it, `too_many_viewers`;
 * - a desktop whose peer has not connected `pendingDeadlineMs` (20 s) after its answer is dropped;
 * - one viewer (`desktop_start.viewer`) may hold `maxPendingPerViewer` (2) desktops not yet connected;
 *   beyond it, `rate_limited`. A connected desktop is never closed to make room.
 * Both refusals carry `retryAfterMs`: when the earliest slot that can free itself will.
 */
import { PortholeError } from '../../errors/porthole-error.js';
import type { Logger } from '../../log/logger.js';
import type { DisplayInfo } from '../../protocol/common.js';
import type { DesktopLimits, DesktopStart } from '../../protocol/ipc.js';
import type { DesktopAuditEvent } from '../../protocol/audit-event.js';
import { SessionLimits } from '../desktop/session-limits.js';
import { realTimers, type TimerHandle, type Timers } from '../../time/timers.js';
import type { DesktopHost } from './desktop-host.js';
import { createDesktopPeer, type DesktopPeer } from '../webrtc/desktop-peer.js';
import { createRelayDesktopPeer, type RelayDesktopPeerOptions } from '../relay/relay-desktop-peer.js';
import { channelAllowed } from '../webrtc/channel-permissions.js';
import type { SessionPresence } from '../presence/session-presence.js';

/** Media and input attached to one answered peer (capture → encode → track, input → injector). */
export interface AttachedMedia {
  close(): void | Promise<void>;
}

export interface WebRtcDesktopHostOptions {
  log: Logger;
  /** The session's displays, or why it cannot be captured. */
  probe(): Promise<{ canCapture: boolean; displays: DisplayInfo[]; reason?: string }>;
  /** Wires media and input to a new peer; called once its answer is ready. */
  attach(peer: DesktopPeer, req: DesktopStart): AttachedMedia | Promise<AttachedMedia>;
  /** Desktops served at once, connected or not (default 8). */
  maxConnections?: number;
  /** A peer not connected this long after its answer is dropped (default 20 s). */
  pendingDeadlineMs?: number;
  /** Desktops one viewer may hold that have not connected yet (default 2). */
  maxPendingPerViewer?: number;
  /** Answers an offer (tests pass a fake). */
  createPeer?: (opts: Parameters<typeof createDesktopPeer>[0]) => ReturnType<typeof createDesktopPeer>;
  /** Connects a relayed desktop (`desktop_start.relay`) to the API's WebSocket relay (tests pass a fake). */
  createRelayPeer?: (opts: RelayDesktopPeerOptions) => Promise<DesktopPeer>;
  timers?: Timers;
  /** A desktop cut by the service's limits (`desktop_start.limits`) is reported here: `session_cut`. */
  audit?: (event: DesktopAuditEvent) => void;
  /**
   * The person at the machine's side (presence/session-presence.ts): told when a desktop connects and
   * when it ends, for the "being viewed" indicator and chat.
   */
  presence?: Pick<SessionPresence, 'connected' | 'left' | 'limitNotice'>;
  /** False: no desktop of this helper carries sound, whatever the service allows. Default true. */
  audio?: boolean;
}

/** How long the viewer has to read why its desktop ends before the peer closes (as for a policy cut). */
export const END_NOTICE_MS = 250;

export const DEFAULT_MAX_DESKTOPS = 8;
/**
 * From the answer to `connected`: ICE checks, DTLS and SCTP. Over a TURN relay (allocated before the
 * offer: there is no trickle ICE) that is a few round trips; on a lossy path DTLS retransmits after 1,
 * 2 and 4 s, so three losses in a row still connect in ~10 s. 20 s leaves twice that, and still frees
 * the slot well before libdatachannel's own ICE failure (~30 s).
 */
export const DEFAULT_PENDING_DEADLINE_MS = 20_000;
/** A viewer reconnecting while its previous offer is still pending needs two; more is abandoned offers. */
export const DEFAULT_MAX_PENDING_PER_VIEWER = 2;
/**
 * Retry-After when every slot is held by a connected viewer: nobody knows when one leaves, and a
 * "session full" page polling every 30 s costs nothing.
 */
export const FULL_RETRY_AFTER_MS = 30_000;

interface Connection {
  viewer: string | undefined;
  /** Undefined while the answer is being made. */
  peer?: DesktopPeer;
  media?: AttachedMedia;
  /** Reached `connected` once: from then on it is a viewer, never dropped for being pending. */
  connected: boolean;
  /** When it will be dropped unless it connects (timers' clock); set when the answer is returned. */
  deadlineAt?: number;
  deadline?: TimerHandle;
  /** The service's length and idle limits, when it set any. */
  limits?: SessionLimits;
}

/** A DesktopHost that answers each offer with a node-datachannel peer and attaches media to it. */
export class WebRtcDesktopHost implements DesktopHost {
  private readonly connections = new Map<string, Connection>();
  private closedListener: (id: string, why: string) => void = () => {};
  private readonly timers: Timers;
  private readonly pendingDeadlineMs: number;

  constructor(private readonly opts: WebRtcDesktopHostOptions) {
    this.timers = opts.timers ?? realTimers;
    this.pendingDeadlineMs = opts.pendingDeadlineMs ?? DEFAULT_PENDING_DEADLINE_MS;
  }

  capabilities(): ReturnType<DesktopHost['capabilities']> {
    return this.opts.probe();
  }

  async start(req: DesktopStart): Promise<string | undefined> {
    if (this.connections.has(req.sessionId)) await this.stop(req.sessionId);
    const viewer = req.viewer?.name;
    this.admit(viewer);
    // The slot is taken before the first await: concurrent starts see it.
    const entry: Connection = { viewer, connected: false };
    this.connections.set(req.sessionId, entry);
    const log = this.opts.log.child({ desktop: req.sessionId });
    let made: { answer: string | undefined; peer: DesktopPeer };
    try {
      made = req.relay
        ? {
            answer: undefined,
            peer: await (this.opts.createRelayPeer ?? createRelayDesktopPeer)({
              relay: req.relay,
              log,
              allowChannel: (label) => channelAllowed(label, req.permissions),
            }),
          }
        : await this.answerOffer(req, log);
    } catch (err) {
      if (this.connections.get(req.sessionId) === entry) this.connections.delete(req.sessionId);
      throw err;
    }
    return this.serve(req, entry, made, log);
  }

  private answerOffer(req: DesktopStart, log: Logger): ReturnType<typeof createDesktopPeer> {
    if (req.offer === undefined) throw new PortholeError('bad_request', 'desktop_start has no offer');
    return (this.opts.createPeer ?? createDesktopPeer)({
      offer: req.offer,
      iceServers: req.iceServers,
      log,
      allowChannel: (label) => channelAllowed(label, req.permissions),
      // The service's `audio.enabled: false`; a host made without sound (no audio feed) says so too.
      audio: req.audio !== false && this.opts.audio !== false,
    });
  }

  private async serve(
    req: DesktopStart,
    entry: Connection,
    made: { answer: string | undefined; peer: DesktopPeer },
    log: Logger,
  ): Promise<string | undefined> {
    const viewer = entry.viewer;
    const { answer, peer } = made;
    if (this.connections.get(req.sessionId) !== entry) {
      // Stopped (or the host closed) while the answer was being made.
      peer.close();
      throw new PortholeError('helper_unavailable', 'the desktop was stopped before it was answered');
    }
    entry.peer = peer;
    if (req.limits) entry.limits = this.limitsFor(req.sessionId, entry, peer, req.limits);
    peer.onState((state) => {
      log.info({ state }, 'peer state');
      if (state === 'connected' && !entry.connected) {
        entry.connected = true;
        entry.limits?.start();
        this.opts.presence?.connected(req.sessionId, viewer, peer);
        this.timers.clearTimeout(entry.deadline);
        entry.deadline = undefined;
      }
      if ((state === 'failed' || state === 'closed') && this.connections.get(req.sessionId) === entry) {
        void this.teardown(req.sessionId, entry).then(() =>
          this.closedListener(req.sessionId, `peer ${state}`),
        );
      }
    });
    let media: AttachedMedia;
    try {
      media = await this.opts.attach(peer, req);
    } catch (err) {
      await this.teardown(req.sessionId, entry);
      throw err;
    }
    if (this.connections.get(req.sessionId) !== entry) {
      // Torn down while attaching (stopped, peer failed, host closed): the media is ours to close.
      await media.close();
      throw new PortholeError('helper_unavailable', 'the desktop was stopped before it was answered');
    }
    entry.media = media;
    if (!entry.connected) {
      entry.deadlineAt = this.timers.now() + this.pendingDeadlineMs;
      entry.deadline = this.timers.setTimeout(() => {
        entry.deadline = undefined;
        if (entry.connected || this.connections.get(req.sessionId) !== entry) return;
        log.info({ viewer, deadlineMs: this.pendingDeadlineMs }, 'viewer never connected: desktop dropped');
        void this.teardown(req.sessionId, entry).then(() =>
          this.closedListener(req.sessionId, `not connected within ${this.pendingDeadlineMs} ms`),
        );
      }, this.pendingDeadlineMs);
      entry.deadline.unref();
    }
    return answer;
  }

  /**
   * The limits of one desktop: the viewer's actions reset the idle clock, warnings go to the viewer on
   * `control`, and the cut tears the desktop down like a stop, reported as `session_cut`.
   * The person at the machine sees the warning on the being-viewed indicator.
   */
  private limitsFor(id: string, entry: Connection, peer: DesktopPeer, limits: DesktopLimits): SessionLimits {
    const sessionLimits = new SessionLimits({
      limits,
      timers: this.timers,
      notify: (reason, remainingMs) => {
        peer.sendControl({ type: 'session_limit', reason, remainingMs });
        // The person at the machine sees the warning on the indicator, counting down; an idle clock
        // restarted (remainingMs back to the whole idle time) or the cut itself clears it.
        const warning = remainingMs > 0 && remainingMs <= limits.warnMs;
        this.opts.presence?.limitNotice(id, warning ? reason : undefined, remainingMs);
      },
      cut: (reason) => {
        if (this.connections.get(id) !== entry) return;
        this.opts.log.info({ desktop: id, reason }, 'desktop cut by the session policy');
        this.opts.audit?.({ kind: 'session_cut', desktop: id, reason });
        void this.teardown(id, entry).then(() => this.closedListener(id, `cut by policy: ${reason}`));
      },
    });
    peer.onInput(() => sessionLimits.action());
    peer.onControl((msg) => {
      if (msg.type === 'select_display' || msg.type === 'ctrl_alt_del') sessionLimits.action();
    });
    return sessionLimits;
  }

  /** Throws the capacity error a new desktop for `viewer` meets, if any. */
  private admit(viewer: string | undefined): void {
    const all = [...this.connections.values()];
    const maxPending = this.opts.maxPendingPerViewer ?? DEFAULT_MAX_PENDING_PER_VIEWER;
    if (viewer !== undefined) {
      const pending = all.filter((c) => c.viewer === viewer && !c.connected);
      if (pending.length >= maxPending) {
        throw new PortholeError(
          'rate_limited',
          `this viewer already has ${pending.length} desktops that have not connected yet`,
          { retryAfterMs: this.soonestFreed(pending) },
        );
      }
    }
    const max = this.opts.maxConnections ?? DEFAULT_MAX_DESKTOPS;
    if (all.length >= max) {
      const pending = all.filter((c) => !c.connected);
      throw new PortholeError('too_many_viewers', `this session already serves ${all.length} desktops`, {
        retryAfterMs: pending.length > 0 ? this.soonestFreed(pending) : FULL_RETRY_AFTER_MS,
      });
    }
  }

  /** When the first of these pending desktops will have connected or been dropped, at the latest. */
  private soonestFreed(pending: Connection[]): number {
    const now = this.timers.now();
    // One still being answered has its whole deadline ahead of it.
    const left = pending.map((c) => (c.deadlineAt ?? now + this.pendingDeadlineMs) - now);
    return Math.max(1000, Math.ceil(Math.min(...left)));
  }

  async stop(desktopId: string): Promise<boolean> {
    const entry = this.connections.get(desktopId);
    if (!entry) return false;
    await this.teardown(desktopId, entry);
    return true;
  }

  onClosed(listener: (desktopId: string, why: string) => void): void {
    this.closedListener = listener;
  }

  async close(): Promise<void> {
    await Promise.all([...this.connections].map(([id, e]) => this.teardown(id, e)));
  }

  /**
   * The person at the machine pressed Disconnect: every desktop of the session ends. Each viewer is
   * told first (`ended {reason: user}` on `control`, so it does not reconnect by itself), and the
   * desktops are reported closed and audited as `session_cut {reason: user}`.
   */
  disconnectAll(): void {
    const all = [...this.connections];
    for (const [, entry] of all) entry.peer?.sendControl({ type: 'ended', reason: 'user' });
    const cut = (): void => {
      for (const [id, entry] of all) {
        if (this.connections.get(id) !== entry) continue;
        this.opts.audit?.({ kind: 'session_cut', desktop: id, reason: 'user' });
        void this.teardown(id, entry).then(() =>
          this.closedListener(id, 'disconnected by the person at the machine'),
        );
      }
    };
    this.timers.setTimeout(cut, END_NOTICE_MS);
  }

  /**
   * Something of this desktop's viewer is under way outside the input channel (a file transfer moving
   * bytes): its idle clock restarts, as for an action. Cheap enough to call per chunk.
   */
  noteActivity(desktopId: string): void {
    this.connections.get(desktopId)?.limits?.action();
  }

  get activeConnections(): number {
    return this.connections.size;
  }

  private async teardown(id: string, entry: Connection): Promise<void> {
    if (this.connections.get(id) !== entry) return;
    this.connections.delete(id);
    this.opts.presence?.left(id);
    this.timers.clearTimeout(entry.deadline);
    entry.deadline = undefined;
    entry.limits?.close();
    try {
      await entry.media?.close();
    } finally {
      entry.peer?.close();
    }
  }
}
