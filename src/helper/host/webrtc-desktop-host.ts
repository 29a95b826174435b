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
 *
 * A desktop may move to a new peer (`addPeer`, the viewer's network changed): the new peer is
 * answered and fed by the same display pipeline while the old one still runs, and swapped in once it
 * connects; the old peer and its media (its held keys released) are closed then. The move takes no
 * slot and no pending share, and the limits and the being-viewed indicator carry on: it is the same
 * desktop. One candidate at a time; a candidate not connected `pendingDeadlineMs` after its answer is
 * dropped, and if the old peer has failed meanwhile, so is the desktop. The helper often sees the old
 * path fail before the viewer asks for a new one (an ICMP error from the old address is enough), so
 * the peer of a connected desktop that fails is closed at once (held keys released) but the desktop
 * waits `moveGraceMs` (15 s) for its viewer's new peer before it ends.
 */
import { PortholeError } from '../../errors/porthole-error.js';
import type { Logger } from '../../log/logger.js';
import type { DisplayInfo } from '../../protocol/common.js';
import type { DesktopAddPeer, DesktopLimits, DesktopStart } from '../../protocol/ipc.js';
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
  /** The display the viewer watches now (it may have switched): a new peer of the desktop starts there. */
  displayIndex?(): number;
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
  presence?: Pick<SessionPresence, 'connected' | 'left' | 'limitNotice'> &
    Partial<Pick<SessionPresence, 'moved'>>;
  /** False: no desktop of this helper carries sound, whatever the service allows. Default true. */
  audio?: boolean;
  /** How long a connected desktop whose peer failed waits for its viewer's new peer (default 15 s). */
  moveGraceMs?: number;
}

/**
 * A viewer notices a dead path a few seconds after the helper may (Chromium's `disconnected`, then
 * HANDOVER_AFTER_DISCONNECTED_MS, gathering and the request): 8 s in the network-change e2e test.
 */
export const DEFAULT_MOVE_GRACE_MS = 15_000;

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

/** A second peer of a desktop, answered and fed, waiting to connect before it replaces the first. */
interface Candidate {
  peer: DesktopPeer;
  media?: AttachedMedia;
  deadline?: TimerHandle;
}

interface Connection {
  viewer: string | undefined;
  /** The request that started it: what a new peer of this desktop is given (permissions, sound…). */
  req: DesktopStart;
  /** A new peer being brought up to replace `peer` (addPeer). */
  candidate?: Candidate;
  /** Its peer failed: the desktop ends when this fires, unless a new peer came (moveGraceMs). */
  orphaned?: TimerHandle;
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
    const entry: Connection = { viewer, req, connected: false };
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
      if (state === 'failed' || state === 'closed') this.onPeerGone(req.sessionId, entry, peer, state, log);
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
        // The desktop's current peer: it may have moved to a new one since the limits started.
        (entry.peer ?? peer).sendControl({ type: 'session_limit', reason, remainingMs });
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
    watchActivity(peer, sessionLimits);
    return sessionLimits;
  }

  /**
   * A second peer for desktop `req.sessionId` of the same viewer (the viewer's network changed);
   * resolves with its answer. The old peer keeps serving until this one connects (onCandidateState).
   */
  async addPeer(req: DesktopAddPeer): Promise<string> {
    const id = req.sessionId;
    const entry = this.connections.get(id);
    // Another viewer's desktop is answered as a missing one: its id is not confirmed to them. A desktop
    // whose viewer is unknown (started without `viewer`) cannot be proven theirs either.
    if (!entry || entry.viewer === undefined || entry.viewer !== req.viewer.name) {
      throw new PortholeError('no_such_desktop', `no desktop '${id}' of this viewer in this session`);
    }
    if (entry.req.relay) {
      throw new PortholeError(
        'bad_request',
        'this desktop goes over the WebSocket relay: it has no peer to move',
      );
    }
    if (!entry.connected) {
      throw new PortholeError('bad_request', 'this desktop has not connected yet: nothing to move');
    }
    const log = this.opts.log.child({ desktop: id, candidate: true });
    if (entry.candidate) this.dropCandidate(entry, 'replaced by a newer one');
    const start: DesktopStart = {
      ...entry.req,
      offer: req.offer,
      iceServers: req.iceServers,
      displayIndex: entry.media?.displayIndex?.() ?? entry.req.displayIndex,
    };
    const made = await this.answerOffer(start, log);
    if (this.connections.get(id) !== entry || entry.candidate) {
      // The desktop ended, or another candidate came, while this one was answered.
      made.peer.close();
      throw new PortholeError('no_such_desktop', `desktop '${id}' ended before its new peer was answered`);
    }
    const candidate: Candidate = { peer: made.peer };
    entry.candidate = candidate;
    made.peer.onState((state) => this.onCandidateState(id, entry, candidate, state, log));
    if (entry.limits) watchActivity(made.peer, entry.limits);
    let media: AttachedMedia;
    try {
      media = await this.opts.attach(made.peer, start);
    } catch (err) {
      if (entry.candidate === candidate) this.dropCandidate(entry, 'attach failed');
      else made.peer.close();
      throw err;
    }
    if (entry.candidate !== candidate && entry.peer !== made.peer) {
      // Dropped while attaching: the media is ours to close.
      await media.close();
      throw new PortholeError('no_such_desktop', `desktop '${id}' ended before its new peer was answered`);
    }
    candidate.media = media;
    if (entry.candidate === candidate) {
      candidate.deadline = this.timers.setTimeout(() => {
        if (entry.candidate !== candidate) return;
        log.info({ deadlineMs: this.pendingDeadlineMs }, 'new peer never connected: dropped');
        this.dropCandidate(entry, `not connected within ${this.pendingDeadlineMs} ms`);
      }, this.pendingDeadlineMs);
      candidate.deadline.unref();
    } else {
      // It connected (and was swapped in) while attaching: the media arrives now.
      entry.media = media;
    }
    log.info({ viewer: entry.viewer }, 'new peer answered for a moving desktop');
    return made.answer;
  }

  private onCandidateState(
    id: string,
    entry: Connection,
    candidate: Candidate,
    state: string,
    log: Logger,
  ): void {
    if (this.connections.get(id) !== entry) return;
    // Swapped in: from now on it is the desktop's peer like the first one was.
    if (entry.peer === candidate.peer && (state === 'failed' || state === 'closed'))
      return this.onPeerGone(id, entry, candidate.peer, state, log);
    if (entry.candidate !== candidate) return;
    if (state === 'connected') {
      const old = { peer: entry.peer, media: entry.media };
      entry.candidate = undefined;
      this.timers.clearTimeout(candidate.deadline);
      this.timers.clearTimeout(entry.orphaned);
      entry.orphaned = undefined;
      entry.peer = candidate.peer;
      entry.media = candidate.media;
      this.opts.presence?.moved?.(id, candidate.peer);
      log.info({}, 'desktop moved to its new peer; closing the old one');
      void this.closeMedia(old, log);
    } else if (state === 'failed' || state === 'closed') {
      this.dropCandidate(entry, `new peer ${state}`);
    }
  }

  /**
   * A peer of the desktop failed or closed. The current one ends the desktop, unless a new peer is on
   * its way (then only it goes, its held keys released with its media); a replaced one says nothing.
   */
  private onPeerGone(id: string, entry: Connection, peer: DesktopPeer, state: string, log: Logger): void {
    if (this.connections.get(id) !== entry || entry.peer !== peer) return;
    if (entry.candidate) return this.dropCurrentPeer(entry, log);
    // A failed path (not a viewer that closed) of a desktop that may move: give the viewer its time.
    const movable = state === 'failed' && entry.connected && entry.viewer !== undefined && !entry.req.relay;
    if (!movable) {
      void this.teardown(id, entry).then(() => this.closedListener(id, `peer ${state}`));
      return;
    }
    this.dropCurrentPeer(entry, log);
    const graceMs = this.opts.moveGraceMs ?? DEFAULT_MOVE_GRACE_MS;
    entry.orphaned = this.timers.setTimeout(() => {
      entry.orphaned = undefined;
      // A new peer on its way decides (its deadline, its own failure).
      if (entry.candidate || entry.peer || this.connections.get(id) !== entry) return;
      log.info({ graceMs }, 'no new peer from the viewer: desktop ended');
      void this.teardown(id, entry).then(() => this.closedListener(id, `peer ${state}`));
    }, graceMs);
    entry.orphaned.unref();
  }

  /** Closes the candidate; with the current peer already gone, the desktop ends too. */
  private dropCandidate(entry: Connection, why: string): void {
    const candidate = entry.candidate;
    if (!candidate) return;
    entry.candidate = undefined;
    this.timers.clearTimeout(candidate.deadline);
    const id = entry.req.sessionId;
    this.opts.log.info({ desktop: id, why }, 'new peer dropped');
    void this.closeMedia(candidate, this.opts.log);
    if (!entry.peer && this.connections.get(id) === entry) {
      void this.teardown(id, entry).then(() => this.closedListener(id, `peer failed; new peer: ${why}`));
    }
  }

  /** The current peer failed while a candidate is coming: it goes, the desktop waits for the candidate. */
  private dropCurrentPeer(entry: Connection, log: Logger): void {
    const old = { peer: entry.peer, media: entry.media };
    entry.peer = undefined;
    entry.media = undefined;
    log.info({}, 'peer gone; the desktop waits for its new peer');
    void this.closeMedia(old, log);
  }

  /** Media first (its session releases held input), then the peer; never throws. */
  private async closeMedia(
    part: { peer?: DesktopPeer | undefined; media?: AttachedMedia | undefined },
    log: Pick<Logger, 'warn'>,
  ): Promise<void> {
    try {
      await part.media?.close();
    } catch (err) {
      log.warn({ err: String(err) }, 'closing a replaced peer’s media failed');
    } finally {
      part.peer?.close();
    }
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
    this.timers.clearTimeout(entry.orphaned);
    entry.orphaned = undefined;
    const candidate = entry.candidate;
    entry.candidate = undefined;
    if (candidate) {
      this.timers.clearTimeout(candidate.deadline);
      await this.closeMedia(candidate, this.opts.log);
    }
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

/** A viewer's actions on any peer of the desktop restart its idle clock (session-limits.ts). */
function watchActivity(peer: DesktopPeer, limits: SessionLimits): void {
  peer.onInput(() => limits.action());
  peer.onControl((msg) => {
    if (msg.type === 'select_display' || msg.type === 'ctrl_alt_del') limits.action();
  });
}
