/**
 * A loopback UDP relay between libjuice and each UDP TURN server, so that zero-tiebreaker.ts can
 * repair the connectivity checks a browser sends through TURN over TCP/TLS before libjuice sees them.
 *
 * libjuice is handed `127.0.0.1:<port>` instead of the TURN server; the relay forwards its datagrams
 * to the real server from a socket of its own and passes the server's answers back, rewriting only
 * a Binding request with a zero ICE tiebreaker and a valid signature (see zero-tiebreaker.ts for
 * why). Datagrams from anyone but the server, or into the loopback side from anything but the
 * first loopback sender (libjuice's socket), are dropped. What this costs:
 *   - a relayed session's media crosses this process (one extra datagram copy each way);
 *   - the server-reflexive address libjuice learns from the TURN server is this relay's socket, not
 *     libjuice's own, so that candidate never works. When no STUN server is configured the real
 *     TURN server is added as a STUN server, so libjuice still learns its own reflexive address.
 * Remove the relay once node-datachannel ships a libjuice that compares the roles by presence.
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { IceServer as LdcIceServer } from 'node-datachannel';
import { type Logger } from '../../log/logger.js';
import { repairTurnDatagram } from './zero-tiebreaker.js';

export interface TurnFixupRelay {
  /** What to give libdatachannel: each UDP TURN server replaced by its loopback relay. */
  readonly servers: LdcIceServer[];
  /** Connectivity checks rewritten so far. */
  readonly repaired: number;
  close(): void;
}

export interface TurnFixupOptions {
  /** The helper's ICE password for this connection; undefined until its answer exists. */
  password: () => string | undefined;
  log: Pick<Logger, 'debug' | 'info' | 'warn'>;
  /** Resolves a TURN server's host name (default: the system resolver). */
  resolve?: (host: string) => Promise<string>;
}

const LOOPBACK = '127.0.0.1';

async function defaultResolve(host: string): Promise<string> {
  return isIP(host) ? host : (await lookup(host)).address;
}

function bind(socket: Socket, address?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address, port: 0 }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

function isTurnUdp(s: LdcIceServer): boolean {
  return s.username !== undefined && (s.relayType === undefined || s.relayType === 'TurnUdp');
}

export async function startTurnFixupRelay(
  servers: readonly LdcIceServer[],
  opts: TurnFixupOptions,
): Promise<TurnFixupRelay> {
  const resolve = opts.resolve ?? defaultResolve;
  const sockets: Socket[] = [];
  let repaired = 0;
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    for (const s of sockets.splice(0)) s.close();
  };

  /** Starts the relay of one server; returns libjuice's entry for it and the server's address. */
  const relayOne = async (server: LdcIceServer): Promise<{ entry: LdcIceServer; address: string }> => {
    const address = await resolve(server.hostname);
    const port = server.port;
    const front = createSocket('udp4');
    const upstream = createSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
    sockets.push(front, upstream);
    for (const s of [front, upstream]) {
      s.on('error', (err) => opts.log.warn({ err: String(err) }, 'TURN fix-up relay socket error'));
    }
    await bind(front, LOOPBACK);
    await bind(upstream);
    let client: { address: string; port: number } | undefined;
    // libjuice sends from one socket: the first loopback sender is it, and only it is served.
    front.on('message', (msg, from) => {
      if (from.address !== LOOPBACK || (client && client.port !== from.port)) return;
      client ??= { address: from.address, port: from.port };
      upstream.send(msg, port, address);
    });
    upstream.on('message', (msg, from) => {
      if (!client || from.address !== address || from.port !== port) return;
      const password = opts.password();
      const fixed = password === undefined ? undefined : repairTurnDatagram(msg, password);
      if (fixed && repaired++ === 0) {
        opts.log.info(
          { server: `${server.hostname}:${port}` },
          'repaired a zero ICE tiebreaker from the peer',
        );
      }
      front.send(fixed ?? msg, client.port, client.address);
    });
    return { entry: { ...server, hostname: LOOPBACK, port: front.address().port }, address };
  };

  const out: LdcIceServer[] = [];
  let stunFromTurn: LdcIceServer | undefined;
  for (const server of servers) {
    if (!isTurnUdp(server)) {
      out.push(server);
      continue;
    }
    try {
      const { entry, address } = await relayOne(server);
      out.push(entry);
      stunFromTurn ??= { hostname: address, port: server.port };
    } catch (err) {
      // Unresolvable or unbindable: libjuice gets the server itself (and its own error, if any).
      opts.log.warn(
        { server: `${server.hostname}:${server.port}`, err: String(err) },
        'TURN fix-up relay not started',
      );
      out.push(server);
    }
  }
  if (stunFromTurn && !servers.some((s) => s.username === undefined)) out.unshift(stunFromTurn);
  return {
    servers: out,
    get repaired() {
      return repaired;
    },
    close,
  };
}
