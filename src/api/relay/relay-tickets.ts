/**
 * One-time tickets of the WebSocket relay (design/API.md, "WebSocket relay"). Starting a relayed
 * desktop mints two: one travels in `start_desktop.relay` to the helper, the other back to the viewer
 * in the answer to its (bearer-authenticated) POST. Each opens one socket on this API instance, within
 * RELAY_TICKET_TTL_MS, once; both name the same desktop connection, which is how the two sockets are
 * paired. Tickets live in this process's memory only: a ticket names its instance (`<instance>.<random>`)
 * so a socket that reached another instance of a fleet is told so (421) instead of "unknown".
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { RELAY_TICKET_PATTERN } from '../../protocol/relay.js';
import type { Timers } from '../../time/timers.js';

/** Long enough for a consent-free start over a slow link; short enough that a leaked ticket is dead. */
export const RELAY_TICKET_TTL_MS = 30_000;
/** Relayed desktops one API instance carries at once (tickets not yet spent count too). */
export const DEFAULT_MAX_RELAYS = 64;

export type RelaySide = 'agent' | 'viewer';

export interface RelayTicketPair {
  agent: string;
  viewer: string;
}

export interface SpentTicket {
  desktopId: string;
  side: RelaySide;
  /** The viewer token's name the desktop was started for. */
  viewer: string;
}

/** Why a ticket opened nothing; each maps to one HTTP status (relay-hub.ts). */
export type TicketRefusal = 'malformed' | 'unknown' | 'expired' | 'wrong_side' | 'other_instance';

interface Entry extends SpentTicket {
  expiresAt: number;
  /** The random part, compared in constant time. */
  secret: Buffer;
}

/** A ticket minted by another instance: which one (the id its ticket starts with). */
export interface OtherInstance {
  refused: 'other_instance';
  instance: string;
}

export class RelayTicketStore {
  private readonly tickets = new Map<string, Entry>();

  constructor(
    readonly instanceId: string,
    private readonly timers: Pick<Timers, 'now'>,
    private readonly ttlMs = RELAY_TICKET_TTL_MS,
  ) {}

  /** Tickets minted and not yet spent or expired. */
  get pending(): number {
    this.sweep();
    return this.tickets.size;
  }

  /**
   * Two tickets for a desktop. The helper's lives `agentTtlMs` (default the store's TTL): it dials only
   * once the start reached it, which may wait for the person at the machine to consent.
   */
  mint(desktopId: string, viewer: string, agentTtlMs = this.ttlMs): RelayTicketPair {
    this.sweep();
    const now = this.timers.now();
    const make = (side: RelaySide, ttl: number): string => {
      const secret = randomBytes(32);
      const key = secret.toString('base64url');
      this.tickets.set(key, { desktopId, side, viewer, expiresAt: now + ttl, secret });
      return `${this.instanceId}.${key}`;
    };
    return { agent: make('agent', agentTtlMs), viewer: make('viewer', this.ttlMs) };
  }

  /** Restarts the lifetime of the desktop's unspent viewer ticket: the viewer gets it only now. */
  renewViewer(desktopId: string): void {
    const expiresAt = this.timers.now() + this.ttlMs;
    for (const e of this.tickets.values())
      if (e.desktopId === desktopId && e.side === 'viewer') e.expiresAt = expiresAt;
  }

  /** Spends a ticket for `side`: its desktop, or why not. A ticket is gone after its first try. */
  spend(
    ticket: string,
    side: RelaySide,
  ): SpentTicket | OtherInstance | { refused: Exclude<TicketRefusal, 'other_instance'> } {
    if (!RELAY_TICKET_PATTERN.test(ticket)) return { refused: 'malformed' };
    const dot = ticket.indexOf('.');
    const instance = ticket.slice(0, dot);
    const key = ticket.slice(dot + 1);
    if (instance !== this.instanceId) return { refused: 'other_instance', instance };
    const entry = this.tickets.get(key);
    // The map lookup is by the secret itself; compare again in constant time so a timing difference
    // between "absent" and "present" tells nothing about near misses.
    const presented = Buffer.from(key, 'base64url');
    if (!entry || presented.length !== entry.secret.length || !timingSafeEqual(presented, entry.secret))
      return { refused: 'unknown' };
    this.tickets.delete(key);
    if (this.timers.now() >= entry.expiresAt) return { refused: 'expired' };
    if (entry.side !== side) return { refused: 'wrong_side' };
    return { desktopId: entry.desktopId, side: entry.side, viewer: entry.viewer };
  }

  /** Forgets the tickets of a desktop that ended before they were used. */
  revoke(desktopId: string): void {
    for (const [key, e] of this.tickets) if (e.desktopId === desktopId) this.tickets.delete(key);
  }

  private sweep(): void {
    const now = this.timers.now();
    for (const [key, e] of this.tickets) if (now >= e.expiresAt) this.tickets.delete(key);
  }
}
