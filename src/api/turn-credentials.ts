/**
 * ICE servers for viewers and helpers: STUN as configured, TURN with time-limited credentials.
 *
 * TURN credentials follow the shared-secret scheme coturn checks with `use-auth-secret` (the "TURN
 * REST API" draft): username = `<expiry unix seconds>:<name>`, credential = base64(HMAC-SHA1(secret,
 * username)). The TURN server recomputes the HMAC and refuses a username whose expiry has passed, so
 * the API never has to tell it about users.
 */
import { createHmac } from 'node:crypto';
import { iceServer, type IceServer } from '../protocol/common.js';

export interface IceConfig {
  /** `stun:` / `stuns:` URLs. */
  stun: string[];
  /** `turn:` / `turns:` URLs; they need `turnSecret`. */
  turn: string[];
  turnSecret?: string;
  /** How long minted TURN credentials stay valid (default 3600 s). */
  turnTtlSeconds?: number;
  /** Tell viewers to use TURN only (`iceTransportPolicy: 'relay'`), hiding their addresses. */
  relayOnly?: boolean;
}

export interface IceServersResponse {
  iceServers: IceServer[];
  iceTransportPolicy?: 'all' | 'relay';
}

export const DEFAULT_TURN_TTL_SECONDS = 3600;

/** Who the list is for: a browser viewer, or the agent's helper (libdatachannel). */
export type IceAudience = 'viewer' | 'agent';

/**
 * How a TURN URL reaches its server: `turns:` is TLS over TCP, `turn:` is UDP unless it says
 * `?transport=tcp` (RFC 7065).
 */
export function turnTransport(url: string): 'udp' | 'tcp' | 'tls' {
  if (/^turns:/i.test(url)) return 'tls';
  return /\?transport=tcp$/i.test(url) ? 'tcp' : 'udp';
}

export function turnCredentials(
  secret: string,
  name: string,
  expiresAtSeconds: number,
): { username: string; credential: string } {
  const username = `${expiresAtSeconds}:${name}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential };
}

/** Checks an ICE config at startup, so a typo fails `porthole api serve` and not the first viewer. */
export function checkIceConfig(config: IceConfig): void {
  for (const url of config.stun) {
    if (!/^stuns?:/.test(url)) throw new Error(`--stun ${url}: must start with stun: or stuns:`);
    iceServer({ urls: url }, `--stun ${url}`);
  }
  for (const url of config.turn) {
    if (!/^turns?:/.test(url)) throw new Error(`--turn ${url}: must start with turn: or turns:`);
    const query = url.includes('?') ? url.slice(url.indexOf('?')) : '';
    if (query !== '' && !/^\?transport=(udp|tcp)$/i.test(query)) {
      throw new Error(`--turn ${url}: the only parameter is ?transport=udp or ?transport=tcp`);
    }
    if (/^turns:/i.test(url) && /=udp$/i.test(query)) {
      throw new Error(`--turn ${url}: turns: runs over TLS (TCP); browsers have no TURN over DTLS`);
    }
    iceServer({ urls: url }, `--turn ${url}`);
  }
  if (config.stun.length > 8 || config.turn.length > 8) throw new Error('at most 8 STUN and 8 TURN URLs');
  if (config.turn.length > 0 && !config.turnSecret) {
    throw new Error('--turn needs the shared secret (--turn-secret-file)');
  }
  if (config.relayOnly && config.turn.length === 0) throw new Error('--relay-only needs at least one --turn');
  const ttl = config.turnTtlSeconds ?? DEFAULT_TURN_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > 86_400 * 7) {
    throw new Error('TURN credential TTL must be between 60 s and 7 days');
  }
}

/**
 * Builds the ICE server list for one requester (`name` ends up in the TURN username, for the TURN logs).
 * A viewer gets every TURN URL: a browser on a network that drops UDP reaches the relay over TCP or
 * TLS. The agent gets the UDP ones only: libdatachannel's ICE (libjuice) speaks TURN over UDP alone,
 * so an agent behind a UDP block cannot use a relay at all (design/MEDIA.md).
 */
export function iceServersFor(
  config: IceConfig,
  name: string,
  now = Date.now(),
  audience: IceAudience = 'viewer',
): IceServersResponse {
  const iceServers: IceServer[] = [];
  if (config.stun.length > 0) iceServers.push({ urls: [...config.stun] });
  const turn = audience === 'agent' ? config.turn.filter((u) => turnTransport(u) === 'udp') : config.turn;
  if (turn.length > 0 && config.turnSecret) {
    const expiry = Math.floor(now / 1000) + (config.turnTtlSeconds ?? DEFAULT_TURN_TTL_SECONDS);
    // coturn splits the username at ':'; keep the name to characters that cannot confuse it.
    const safeName = name.replace(/[^A-Za-z0-9._@-]/g, '_').slice(0, 64) || 'viewer';
    iceServers.push({ urls: [...turn], ...turnCredentials(config.turnSecret, safeName, expiry) });
  }
  return { iceServers, iceTransportPolicy: config.relayOnly ? 'relay' : 'all' };
}
