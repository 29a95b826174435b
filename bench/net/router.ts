/**
 * The impairing router's core: IPv4 packets in, each direction impaired on its own, packets out when
 * due. Sockets, the TUN device and the clock are given to it, so tests drive it with a fake clock and
 * a seeded generator (router-main.ts runs it on a real TUN device).
 */
import type { Timers, TimerHandle } from '../../src/time/timers.js';
import { ImpairedDirection, ReleaseQueue, seededRng, type Impairment } from './impairment.js';

export type Direction = 'down' | 'up';

/** Reads an IPv4 packet's destination address, or undefined for anything that is not IPv4. */
export function ipv4Destination(packet: Uint8Array): string | undefined {
  if (packet.length < 20 || packet[0]! >> 4 !== 4) return undefined;
  return `${packet[16]}.${packet[17]}.${packet[18]}.${packet[19]}`;
}

export interface RouterOptions {
  /** Addresses on the viewer's side start with this (e.g. '10.77.1.'): packets to them go 'down'. */
  viewerPrefix: string;
  seed: number;
  timers: Timers;
  /** Sends a packet on (back into the kernel, which routes it to its destination). */
  write(packet: Uint8Array): void;
}

export class ImpairingRouter {
  readonly down: ImpairedDirection;
  readonly up: ImpairedDirection;
  private readonly queue = new ReleaseQueue<Uint8Array>();
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  /** Non-IPv4 packets are not routed here (the harness routes only IPv4 through the TUN device). */
  dropped = 0;

  constructor(private readonly opts: RouterOptions) {
    // One generator per direction, so traffic one way does not change the fate of packets the other.
    this.down = new ImpairedDirection({ delayMs: 0, jitterMs: 0, loss: 0, reorder: 0 }, seededRng(opts.seed));
    this.up = new ImpairedDirection(
      { delayMs: 0, jitterMs: 0, loss: 0, reorder: 0 },
      seededRng(opts.seed ^ 0x9e3779b9),
    );
  }

  impair(down: Impairment, up: Impairment): void {
    this.down.set(down);
    this.up.set(up);
  }

  /** Drops everything in both directions for `ms`, packets already queued included. */
  outage(ms: number): void {
    const until = this.opts.timers.now() + ms;
    this.down.outage(until);
    this.up.outage(until);
    this.queue.clear();
  }

  direction(packet: Uint8Array): Direction | undefined {
    const dst = ipv4Destination(packet);
    if (dst === undefined) return undefined;
    return dst.startsWith(this.opts.viewerPrefix) ? 'down' : 'up';
  }

  /** One packet read from the TUN device. The router keeps `packet`: pass a buffer it may own. */
  receive(packet: Uint8Array): void {
    const dir = this.direction(packet);
    if (!dir) {
      this.dropped += 1;
      return;
    }
    const now = this.opts.timers.now();
    const at = this[dir].admit(now, packet.length);
    if (at === undefined) return;
    if (at <= now && this.queue.size === 0) {
      this.opts.write(packet);
      return;
    }
    this.queue.push(at, packet);
    this.arm();
  }

  close(): void {
    this.opts.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.clear();
  }

  private arm(): void {
    const next = this.queue.nextAt;
    if (next === undefined || next >= this.timerAt) return;
    this.opts.timers.clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = this.opts.timers.setTimeout(
      () => this.release(),
      Math.max(0, next - this.opts.timers.now()),
    );
  }

  private release(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    for (const p of this.queue.takeDue(this.opts.timers.now())) this.opts.write(p);
    this.arm();
  }
}
