/**
 * Which address a request comes from. The TCP peer, unless that peer is a reverse proxy the operator
 * named with `--trusted-proxy CIDR`: then `X-Forwarded-For` is read from the right, skipping every
 * hop that is itself a trusted proxy, and the first untrusted hop is the client. Entries left of it
 * were written by the client and are ignored, so a client cannot pick its own address (and with it
 * its own rate-limit bucket) by sending the header itself.
 */
import { BlockList, isIP } from 'node:net';

export class TrustedProxies {
  private readonly list = new BlockList();
  readonly cidrs: readonly string[];

  /** Throws a RangeError naming the value when one is not `ADDRESS[/PREFIX]` (IPv4 or IPv6). */
  constructor(cidrs: readonly string[]) {
    this.cidrs = cidrs.map((c) => {
      const { address, prefix, family } = parseCidr(c);
      this.list.addSubnet(address, prefix, family);
      return `${address}/${prefix}`;
    });
  }

  get empty(): boolean {
    return this.cidrs.length === 0;
  }

  has(address: string): boolean {
    const a = normalizeAddress(address);
    const family = isIP(a);
    if (family === 0) return false;
    return this.list.check(a, family === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * The client's address: the socket's peer, or (when the peer is trusted) the right-most untrusted
   * `X-Forwarded-For` hop. A malformed hop ends the walk at the last trusted one, which is the most
   * the operator's proxies vouch for. `forwardedFor` is the header as Node gives it (repeated
   * headers joined with `, `).
   */
  clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined): string {
    let current = normalizeAddress(peer ?? 'unknown');
    if (this.empty || !this.has(current) || forwardedFor === undefined) return current;
    const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
    // Bounded: a header is at most Node's 16 KiB of headers; past 64 hops nothing is believable anyway.
    const hops = header.split(',').slice(-64).reverse();
    for (const raw of hops) {
      const hop = normalizeAddress(raw.trim());
      if (isIP(hop) === 0) return current;
      current = hop;
      if (!this.has(hop)) return hop;
    }
    return current;
  }
}

/** `::ffff:1.2.3.4` → `1.2.3.4`, so one client has one address whichever way its socket reports it. */
export function normalizeAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m?.[1] ?? address.toLowerCase();
}

export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const m = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  const address = m?.[1] ? normalizeAddress(m[1]) : '';
  const version = isIP(address);
  if (!m || version === 0) {
    throw new RangeError(`--trusted-proxy '${text}' is not an IP address or CIDR (10.0.0.0/8, ::1/128)`);
  }
  const max = version === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? max : Number(m[2]);
  if (prefix > max) throw new RangeError(`--trusted-proxy '${text}': the prefix must be at most ${max}`);
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}
