/**
 * The WebSocket relay of the API (design/API.md, "WebSocket relay"): `GET /api/relay/agent?ticket=…`
 * is the helper's outbound socket, `GET /api/relay/viewer?ticket=…` the viewer's; the two tickets of
 * one relayed desktop pair them. The hub reads only frame headers (protocol/relay.ts): video, control
 * and cursor go helper → viewer through a ViewerQueue, input and control go viewer → helper, which
 * validates them with the same gates as its DataChannels. This is the one place media crosses the API;
 * it never crosses the service's pipe.
 *
 * A relay lives from its first socket to the first close: either side closing closes the other, and a
 * side whose partner never comes is closed when the partner's ticket would have expired.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../log/logger.js';
import {
  decodeRelayHeader,
  encodeRelayText,
  MAX_RELAY_FRAME_BYTES,
  RELAY_FRAME_TYPES,
} from '../../protocol/relay.js';
import { MAX_CONSENT_TIMEOUT_MS } from '../../protocol/api.js';
import { realTimers, type TimerHandle, type Timers } from '../../time/timers.js';
import { HttpError } from '../http-json.js';
import {
  DEFAULT_MAX_RELAYS,
  RELAY_TICKET_TTL_MS,
  RelayTicketStore,
  type RelaySide,
  type TicketRefusal,
} from './relay-tickets.js';
import { ViewerQueue, ViewerTooSlowError, type ViewerQueueOptions } from './viewer-queue.js';

/** Sent to the helper (text) once its viewer's socket is here: it starts streaming. */
export const RELAY_PAIRED = 'paired';
/** Bytes handed to the viewer's socket and not yet written out before the rest waits in the queue. */
export const VIEWER_IN_FLIGHT_BYTES = 256 * 1024;
/** Viewer → helper bytes that may wait in the helper's socket; beyond it the viewer's input is dropped. */
const AGENT_BACKLOG_BYTES = 1024 * 1024;
/**
 * The helper dials only once `start_desktop` reached it, after the person at the machine consented
 * when the device asks (at most MAX_CONSENT_TIMEOUT_MS), so its ticket outlives the viewer's.
 */
export const RELAY_AGENT_TICKET_TTL_MS = MAX_CONSENT_TIMEOUT_MS + 60_000;
/**
 * Pacing by the viewer's acks: the kernel's socket buffers (megabytes, autotuned) hide a slow viewer
 * from `ws`'s send callback, so frames are handed to its socket only while the oldest video frame it
 * has not acknowledged is younger than this and less than MAX_UNACKED_BYTES are unacknowledged;
 * otherwise they wait in its ViewerQueue, which drops to the next keyframe. Above a satellite RTT.
 */
export const MAX_UNACKED_MS = 1000;
export const MAX_UNACKED_BYTES = 2 * 1024 * 1024;
/** How often the relay asks the helper for a keyframe on a slow viewer's behalf, at most. */
const KEYFRAME_ASK_INTERVAL_MS = 250;

export interface RelayHubOptions {
  instanceId: string;
  log: Logger;
  timers?: Timers;
  maxRelays?: number;
  ticketTtlMs?: number;
  queue?: Omit<ViewerQueueOptions, 'now' | 'onKeyframeNeeded'>;
  /**
   * The public relay origin (`ws[s]://host[:port]`) another instance of the fleet advertised, if any
   * (src/api/redis/): named in the 421 a socket meant for that instance gets here.
   */
  relayOriginOf?: (instanceId: string) => Promise<string | undefined>;
}

/** What a relay shows for its desktop and the viewer's queue: logged, and read by bench:net. */
export interface RelayTotals {
  /** Relayed desktops since the start. */
  relays: number;
  /** Frames handed to viewers' sockets, over all relays that ended and those still open. */
  forwarded: number;
  /** Of those, video frames. */
  forwardedVideo: number;
  /** Video frames the viewers' queues dropped (waiting for a keyframe, or a viewer fallen behind). */
  droppedFrames: number;
  droppedBytes: number;
  /** Times a queue gave up on its backlog and waited for the next keyframe. */
  skips: number;
}

interface Relay {
  desktopId: string;
  viewerName: string;
  agent?: WebSocket;
  viewer?: WebSocket;
  queue: ViewerQueue;
  inFlight: number;
  /** Video frames handed to the viewer's socket and not acknowledged yet, oldest first. */
  unacked: { timestampUs: number; bytes: number; at: number }[];
  unackedBytes: number;
  /** The viewer acknowledged a frame once: from then on it is paced by its acks. */
  acking: boolean;
  /** The helper asked for the viewer's acks (`acks=1` on its socket's URL): they are passed on. */
  agentWantsAcks: boolean;
  keyframeAskedAt?: number;
  /** Closes a side left alone for longer than its partner's ticket could still arrive. */
  alone?: TimerHandle;
  closed: boolean;
}

const REFUSALS: Record<Exclude<TicketRefusal, 'other_instance'>, HttpError> = {
  malformed: new HttpError(400, 'bad_request', 'ticket is missing or malformed', 'ticket'),
  unknown: new HttpError(401, 'relay_ticket_invalid', 'unknown or already used relay ticket'),
  expired: new HttpError(401, 'relay_ticket_invalid', 'the relay ticket expired'),
  wrong_side: new HttpError(403, 'relay_ticket_wrong_side', 'this ticket opens the other end of the relay'),
};

/**
 * 421 `relay_wrong_instance`: the ticket names another instance. The body names it (`instance`) and,
 * when that instance advertised a public relay origin, where this socket should have gone (`relayUrl`).
 */
function wrongInstance(
  instance: string,
  side: RelaySide,
  origin: string | undefined,
): { err: HttpError; extra: Record<string, string> } {
  const relayUrl = origin ? `${origin}/api/relay/${side}` : undefined;
  return {
    err: new HttpError(
      421,
      'relay_wrong_instance',
      `this ticket was issued by API instance ${instance}: connect to ${relayUrl ?? 'the URL it came with'}`,
    ),
    extra: { instance, ...(relayUrl ? { relayUrl } : {}) },
  };
}

export class RelayHub {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_RELAY_FRAME_BYTES,
    perMessageDeflate: false,
  });
  private readonly relays = new Map<string, Relay>();
  readonly tickets: RelayTicketStore;
  private readonly timers: Timers;
  private readonly maxRelays: number;
  /** The queue counters of relays that ended (open ones are added by `totals`). */
  private readonly ended: RelayTotals = {
    relays: 0,
    forwarded: 0,
    forwardedVideo: 0,
    droppedFrames: 0,
    droppedBytes: 0,
    skips: 0,
  };

  constructor(private readonly opts: RelayHubOptions) {
    this.timers = opts.timers ?? realTimers;
    this.tickets = new RelayTicketStore(
      opts.instanceId,
      this.timers,
      opts.ticketTtlMs ?? RELAY_TICKET_TTL_MS,
    );
    this.maxRelays = opts.maxRelays ?? DEFAULT_MAX_RELAYS;
  }

  /** Relays with at least one socket open. */
  get size(): number {
    return this.relays.size;
  }

  /** The viewers' queue counters over every relay this instance carried since it started. */
  totals(): RelayTotals {
    const t = { ...this.ended };
    for (const r of this.relays.values()) addQueueStats(t, r);
    return t;
  }

  /**
   * Two tickets for a new relayed desktop, or 503 `relay_full` (with Retry-After) when this instance
   * carries as many relays as it may.
   */
  open(desktopId: string, viewer: string): { agent: string; viewer: string } {
    if (this.relays.size + this.tickets.pending / 2 >= this.maxRelays) {
      throw new HttpError(
        503,
        'relay_full',
        `this API instance relays ${this.maxRelays} desktops already; try again shortly`,
        undefined,
        { 'retry-after': '30' },
      );
    }
    return this.tickets.mint(desktopId, viewer, RELAY_AGENT_TICKET_TTL_MS);
  }

  /** The start succeeded and its answer goes to the viewer now: its ticket's lifetime starts here. */
  answered(desktopId: string): void {
    this.tickets.renewViewer(desktopId);
  }

  /** The desktop ended (or its start failed): unused tickets die, open sockets close. */
  end(desktopId: string): void {
    this.tickets.revoke(desktopId);
    const relay = this.relays.get(desktopId);
    if (relay) this.closeRelay(relay, 1000, 'desktop stopped');
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, side: RelaySide): void {
    const url = new URL(req.url ?? '/', 'http://relay.invalid');
    const ticket = url.searchParams.get('ticket') ?? '';
    const spent = this.tickets.spend(ticket, side);
    if ('refused' in spent) {
      // Never the ticket itself in the log: a one-time secret, however dead.
      this.opts.log.warn({ side, refused: spent.refused }, 'relay socket refused');
      if (spent.refused !== 'other_instance') return refuseUpgrade(socket, REFUSALS[spent.refused]);
      const instance = spent.instance;
      void (this.opts.relayOriginOf?.(instance) ?? Promise.resolve(undefined))
        .catch(() => undefined) // Redis unreachable: the id alone still says where it belongs
        .then((origin) => {
          const { err, extra } = wrongInstance(instance, side, origin);
          if (!socket.destroyed) refuseUpgrade(socket, err, extra);
        });
      return;
    }
    const wantsAcks = side === 'agent' && url.searchParams.get('acks') === '1';
    this.wss.handleUpgrade(req, socket, head, (ws) =>
      this.accept(ws, side, spent.desktopId, spent.viewer, wantsAcks),
    );
  }

  async close(): Promise<void> {
    for (const relay of [...this.relays.values()]) this.closeRelay(relay, 1001, 'API stopping');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(
    ws: WebSocket,
    side: RelaySide,
    desktopId: string,
    viewerName: string,
    wantsAcks: boolean,
  ): void {
    const log = this.opts.log;
    let relay = this.relays.get(desktopId);
    if (!relay) {
      const fresh: Relay = {
        desktopId,
        viewerName,
        inFlight: 0,
        unacked: [],
        unackedBytes: 0,
        acking: false,
        agentWantsAcks: false,
        closed: false,
        queue: new ViewerQueue({
          ...this.opts.queue,
          now: this.timers.now,
          onKeyframeNeeded: () => this.askKeyframe(fresh),
        }),
      };
      relay = fresh;
      this.relays.set(desktopId, relay);
    }
    const r = relay;
    if (r[side]) {
      // Tickets are single-use, so only a bug gets here; the newcomer is the one refused.
      ws.close(1008, 'this side of the relay is taken');
      return;
    }
    r[side] = ws;
    if (side === 'agent') r.agentWantsAcks = wantsAcks;
    log.info({ desktop: desktopId, side }, 'relay socket open');
    ws.on('error', (err) => log.warn({ desktop: desktopId, side, err: err.message }, 'relay socket error'));
    ws.on('close', (code) => {
      log.info({ desktop: desktopId, side, code, ...r.queue.stats }, 'relay socket closed');
      this.closeRelay(r, 1000, `${side} left`);
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return ws.close(1003, 'relay frames are binary');
      if (side === 'agent') this.fromAgent(r, data);
      else this.fromViewer(r, data);
    });
    this.timers.clearTimeout(r.alone);
    r.alone = undefined;
    if (r.agent && r.viewer) {
      r.agent.send(RELAY_PAIRED);
      log.info({ desktop: desktopId, viewer: r.viewerName }, 'relay paired');
    } else {
      r.alone = this.timers.setTimeout(() => {
        if (!(r.agent && r.viewer)) this.closeRelay(r, 1001, 'the other side never came');
      }, this.opts.ticketTtlMs ?? RELAY_TICKET_TTL_MS);
      r.alone.unref();
    }
  }

  private fromAgent(r: Relay, data: Buffer): void {
    let header;
    try {
      header = decodeRelayHeader(data);
    } catch (err) {
      this.opts.log.warn({ desktop: r.desktopId, err: String(err) }, 'malformed frame from a helper');
      return this.closeRelay(r, 1007, 'malformed frame');
    }
    if (header.type === 'input') return this.closeRelay(r, 1008, 'a helper sends no input');
    if (!r.viewer || r.closed) return;
    try {
      r.queue.push(data, header);
    } catch (err) {
      if (!(err instanceof ViewerTooSlowError)) throw err;
      this.opts.log.warn({ desktop: r.desktopId, err: err.message }, 'relay viewer too slow: cut');
      return this.closeRelay(r, 1008, 'viewer too slow');
    }
    this.pump(r);
  }

  private fromViewer(r: Relay, data: Buffer): void {
    let header;
    try {
      header = decodeRelayHeader(data);
    } catch {
      return this.closeRelay(r, 1007, 'malformed frame');
    }
    if (header.type === 'ack') {
      // Passed on as it came (10 bytes): the helper's bitrate controller reads the path from them.
      const agent = r.agent;
      if (r.agentWantsAcks && agent && agent.bufferedAmount <= AGENT_BACKLOG_BYTES)
        agent.send(data, { binary: true });
      return this.onAck(r, header.timestampUs);
    }
    if (header.type !== 'input' && header.type !== 'control') {
      return this.closeRelay(r, 1008, `a viewer sends no ${header.type}`);
    }
    const agent = r.agent;
    // The helper's own gates rate-limit what it reads; a socket it cannot keep up with drops here.
    if (!agent || agent.bufferedAmount > AGENT_BACKLOG_BYTES) return;
    agent.send(data, { binary: true });
  }

  private pump(r: Relay): void {
    const viewer = r.viewer;
    if (!viewer || r.closed) return;
    while (r.inFlight < VIEWER_IN_FLIGHT_BYTES && !this.viewerBehind(r)) {
      const frame = r.queue.shift();
      if (!frame) return;
      if (r.acking && frame[0] === RELAY_FRAME_TYPES.video) {
        const { timestampUs } = decodeRelayHeader(frame);
        r.unacked.push({ timestampUs, bytes: frame.byteLength, at: this.timers.now() });
        r.unackedBytes += frame.byteLength;
      }
      r.inFlight += frame.byteLength;
      viewer.send(frame, { binary: true }, () => {
        r.inFlight -= frame.byteLength;
        this.pump(r);
      });
    }
  }

  private viewerBehind(r: Relay): boolean {
    const oldest = r.unacked[0];
    if (!oldest) return false;
    return r.unackedBytes >= MAX_UNACKED_BYTES || this.timers.now() - oldest.at >= MAX_UNACKED_MS;
  }

  private onAck(r: Relay, timestampUs: number): void {
    r.acking = true;
    while (r.unacked[0] && r.unacked[0].timestampUs <= timestampUs) {
      r.unackedBytes -= r.unacked.shift()?.bytes ?? 0;
    }
    this.pump(r);
  }

  private askKeyframe(r: Relay): void {
    const now = this.timers.now();
    if (r.keyframeAskedAt !== undefined && now - r.keyframeAskedAt < KEYFRAME_ASK_INTERVAL_MS) return;
    r.keyframeAskedAt = now;
    // A control message the viewer could have sent itself: the helper's control gate reads it.
    r.agent?.send(encodeRelayText('control', JSON.stringify({ type: 'keyframe' })), { binary: true });
  }

  private closeRelay(r: Relay, code: number, reason: string): void {
    if (r.closed) return;
    r.closed = true;
    this.timers.clearTimeout(r.alone);
    if (this.relays.get(r.desktopId) === r) {
      this.relays.delete(r.desktopId);
      addQueueStats(this.ended, r);
    }
    this.tickets.revoke(r.desktopId);
    for (const ws of [r.agent, r.viewer]) {
      if (!ws) continue;
      ws.close(code, reason);
      // A side that never completes the close handshake must not hold its socket.
      const cut = this.timers.setTimeout(() => ws.terminate(), 2000);
      cut.unref();
      ws.once('close', () => this.timers.clearTimeout(cut));
    }
    while (r.queue.shift()) {
      /* frees what waited for the viewer */
    }
    r.unacked.length = 0;
  }
}

function addQueueStats(t: RelayTotals, r: Relay): void {
  const q = r.queue.stats;
  t.relays++;
  t.forwarded += q.forwarded;
  t.forwardedVideo += q.forwardedVideo;
  t.droppedFrames += q.droppedFrames;
  t.droppedBytes += q.droppedBytes;
  t.skips += q.skips;
}

function refuseUpgrade(socket: Duplex, err: HttpError, extra: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: { code: err.code, message: err.message, ...extra } });
  const reason: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    421: 'Misdirected Request',
  };
  socket.end(
    `HTTP/1.1 ${err.status} ${reason[err.status] ?? 'Error'}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
